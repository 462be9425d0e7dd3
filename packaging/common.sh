# Shared by bootstrap.sh and build.sh (sourced, not run): the Debian packages xdrconf's
# window needs at run time, and need_apt, which installs missing Debian packages.

# Qt's runtime libraries for the offscreen and xcb platforms, D-Bus and gnome-keyring
# (the Secret Service), Xvfb for a window without a display.
runtime_pkgs="python3 python3-venv libgl1 libegl1 libfontconfig1 libfreetype6 libglib2.0-0
  libdbus-1-3 libxkbcommon0 fonts-dejavu-core libxkbcommon-x11-0 libx11-xcb1 libxcb-cursor0
  libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0
  libxcb-shm0 libxcb-sync1 libxcb-xfixes0 libxcb-xkb1 dbus gnome-keyring xvfb xauth"

need_apt() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "xdrconf: these Debian packages are missing: ${missing[*]} (run as root or install them with apt-get)" >&2
    exit 2
  fi
  echo "xdrconf: installing Debian packages: ${missing[*]}" >&2
  if [[ " ${missing[*]} " == *" redmine "* ]]; then
    # Redmine (a test peer) asks dbconfig-common questions: an SQLite database, made for it.
    debconf-set-selections <<'EOT'
redmine redmine/instances/default/dbconfig-install boolean true
redmine redmine/instances/default/database-type select sqlite3
EOT
  fi
  # Another apt or dpkg (e.g. unattended-upgrades on a fresh machine) may hold the lock:
  # wait for it, up to five minutes, instead of failing at once.
  local wait=(-o DPkg::Lock::Timeout=300)
  apt-get "${wait[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
