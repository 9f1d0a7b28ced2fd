# Headless Chromium for the browser tests (the API reference page): Debian's `chromium`, installed
# with apt when missing. Sourced by scripts/test; exports CHROMIUM, the binary the tests start.

ensure_chromium() {
  local found
  found="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
  if [ -z "$found" ]; then
    local apt=(apt-get)
    if [ "$(id -u)" != 0 ]; then
      command -v sudo >/dev/null || { echo "chromium is missing and apt needs root: install Debian's chromium package" >&2; return 1; }
      apt=(sudo apt-get)
    fi
    echo "installing chromium with apt (once)" >&2
    # A lock: parallel runs on a new machine would otherwise fight over dpkg.
    flock /tmp/videotube-apt.lock bash -c "
      command -v chromium >/dev/null && exit 0
      DEBIAN_FRONTEND=noninteractive ${apt[*]} update -qq &&
      DEBIAN_FRONTEND=noninteractive ${apt[*]} install -y -qq --no-install-recommends chromium
    " >&2
    found="$(command -v chromium)"
  fi
  export CHROMIUM="$found"
}
