#!/usr/bin/env bash
# One entry point for the two set-up commands named in README.md:
#   bash packaging/bootstrap.sh app    install what is needed, then start xdrconf
#   bash packaging/bootstrap.sh test   install what is needed, then run the whole test suite
# Works on a fresh Debian machine as root; repeated runs skip what is already there.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mode=${1:-}
shift || true

# shellcheck source=packaging/common.sh
. packaging/common.sh  # runtime_pkgs, need_apt

# Last line: the Samba AD DC test peer (tests/support/samba_dc.py); samba-ad-provision has the
# files `samba-tool domain provision` needs. The debconf questions of krb5-user come from
# krb5-config, a Recommends (not installed here); DEBIAN_FRONTEND=noninteractive covers both.
test_pkgs="openssh-server openssh-client slapd ldap-utils openssl procps keepassxc
  redmine redmine-sqlite ruby-webrick
  samba samba-ad-dc samba-ad-provision krb5-user winbind"

make_venv() {
  local extra=$1
  local py=python3
  if [ ! -x .venv/bin/python ]; then
    "$py" -m venv .venv 2>/dev/null || /usr/bin/python3 -m venv .venv
  fi
  local stamp=".venv/.installed-$extra"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extra"
    touch "$stamp"
  fi
  # The message catalogs: the install compiled them (setup.py); a .po edited since then is
  # compiled again here, so the app and the tests never run on a stale .mo.
  if catalogs_stale; then
    if .venv/bin/python -c "import babel" 2>/dev/null; then
      bash packaging/i18n.sh compile
    else
      .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extra"
    fi
  fi
}

catalogs_stale() {
  local po
  for po in gui/xdrconf/locale/*/LC_MESSAGES/*.po; do
    [ -e "$po" ] || continue
    if [ ! -e "${po%.po}.mo" ] || [ "$po" -nt "${po%.po}.mo" ]; then
      return 0
    fi
  done
  return 1
}

case "$mode" in
  app)
    # shellcheck disable=SC2086
    need_apt $runtime_pkgs
    make_venv ""
    # Secrets: the OS keyring when one is running and unlocked (a desktop session's
    # gnome-keyring or KWallet); otherwise xdrconf keeps them in an encrypted KeePass vault
    # whose passphrase the user chooses. This script starts no keyring: it would have to
    # invent or store a passphrase to unlock it.
    if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && [ ! -S "${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/bus" ]; then
      echo "xdrconf: no D-Bus session, so no OS keyring: secrets go into an encrypted KeePass vault" \
        "(secrets.kdbx in the settings folder); you choose its passphrase when the first secret is stored." >&2
    fi
    # With a command (e.g. `app tenant list`) it is the command line: no screen needed.
    if [ $# -eq 0 ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
      echo "xdrconf: no display found (DISPLAY is not set); starting on a virtual screen with xvfb-run." >&2
      exec xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/xdrconf "$@"
    fi
    exec .venv/bin/xdrconf "$@"
    ;;
  test)
    # shellcheck disable=SC2086
    need_apt $runtime_pkgs $test_pkgs
    make_venv "[test]"
    exec bash packaging/run-tests.sh "$@"
    ;;
  *)
    echo "usage: bash packaging/bootstrap.sh app|test [ARGS...]" >&2
    exit 2
    ;;
esac
