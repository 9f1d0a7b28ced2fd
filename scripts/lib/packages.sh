# Debian packages the tests use, installed with apt when missing: headless Chromium (the API
# reference page), ffmpeg (video processing) and Node.js with npm (tests driving npm packages).
# Sourced by scripts/test and scripts/run.

# Installs Debian package $2 unless command $1 is already there.
apt_install() {
  local command=$1 package=$2
  command -v "$command" >/dev/null && return 0
  local apt=(apt-get)
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "$command is missing and apt needs root: install Debian's $package package" >&2; return 1; }
    apt=(sudo apt-get)
  fi
  echo "installing $package with apt (once)" >&2
  # A lock: parallel runs on a new machine would otherwise fight over dpkg.
  flock /tmp/videotube-apt.lock bash -c "
    command -v $command >/dev/null && exit 0
    DEBIAN_FRONTEND=noninteractive ${apt[*]} update -qq &&
    DEBIAN_FRONTEND=noninteractive ${apt[*]} install -y -qq --no-install-recommends $package
  " >&2
}

# Exports CHROMIUM, the binary the browser tests start.
ensure_chromium() {
  local found
  found="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
  if [ -z "$found" ]; then
    apt_install chromium chromium
    found="$(command -v chromium)"
  fi
  export CHROMIUM="$found"
}

# ffmpeg and ffprobe, found in PATH by the server and the tests.
ensure_ffmpeg() {
  apt_install ffprobe ffmpeg
}

# Node.js and npm, for the tests that drive npm packages (hls.js in Chromium, tus-js-client).
ensure_node() {
  apt_install node nodejs
  apt_install npm npm
}
