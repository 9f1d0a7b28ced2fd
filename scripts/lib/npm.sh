# Installs the npm packages pinned by $1/package-lock.json into $2 (under .tools), once: tests
# that need them run in parallel, so one installs while the others wait on a lock, and the stamp
# (the lock file it was installed from) is written only once the install is whole. Needs Node.
npm_install_pinned() {
  local from=$1 into=$2
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "[videotube] $(basename "$from") needs Node.js and npm (Debian: apt-get install nodejs npm)" >&2
    return 1
  fi
  mkdir -p "$into"
  (
    flock 9
    if ! cmp -s "$from/package-lock.json" "$into/installed-from.json" 2>/dev/null; then
      rm -f "$into/installed-from.json"
      cp "$from/package.json" "$from/package-lock.json" "$into/"
      npm ci --prefix "$into" --no-audit --no-fund --silent >&2
      cp "$from/package-lock.json" "$into/installed-from.json"
    fi
  ) 9>"$into/.install.lock"
}
