#!/usr/bin/env bash
# Runs the gates (ruff, ruff format, mypy), builds the installable package when it is out of
# date (packaging/build.sh --if-changed), then the whole suite against real peers: a
# private D-Bus session with an unlocked gnome-keyring (the real Secret Service), one Xvfb
# session for the tests marked xvfb, and offscreen Qt for all the others. Called by
# bootstrap.sh after installation.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
[ "$(id -u)" -eq 0 ] && mkdir -p -m0755 /run/sshd
scratch=$(mktemp -d /tmp/xdrconf-tests.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
# A throwaway HOME so the keyring, caches and config of the tests never touch the user's.
export HOME="$scratch/home" XDG_DATA_HOME="$scratch/home/.local/share" \
       XDG_CONFIG_HOME="$scratch/home/.config" XDG_CACHE_HOME="$scratch/home/.cache"
export XDG_RUNTIME_DIR="$scratch/run"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
unset DISPLAY WAYLAND_DISPLAY
export PYTHONDONTWRITEBYTECODE=1
# Property-based tests take the same examples on every run of the test command (CI included);
# HYPOTHESIS_PROFILE=dev or long explores new ones.
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
py="$here/.venv/bin/python"

# The gates, before any test: lint, formatting and types (configured in pyproject.toml).
# Each runs in well under a second with its cache (mypy takes ~6 s on a cold cache).
failed=()
"$here/.venv/bin/ruff" check --quiet --output-format concise gui tests || failed+=("ruff check gui tests")
"$here/.venv/bin/ruff" format --check --quiet gui tests || failed+=("ruff format --check gui tests")
"$here/.venv/bin/mypy" || failed+=("mypy")
if [ ${#failed[@]} -ne 0 ]; then
  printf 'xdrconf: gate failed: %s\n' "${failed[@]}" >&2
  exit 1
fi

# The installable package, for its smoke test (tests/test_frozen.py): built here, once per
# run and before the tests (about a minute; seconds when the sources have not changed since
# dist/ was built), when the whole suite runs or the smoke test was asked for.
if [ $# -eq 0 ] || [[ " $* " == *test_frozen* ]]; then
  bash packaging/build.sh --if-changed || { echo "xdrconf: packaging/build.sh failed" >&2; exit 1; }
fi

# The tests' D-Bus session starts no service of the machine's: only the Secret Service, and
# that as the tests' own keyring, unlocked. gnome-keyring-daemon has now and then died in the
# middle of a run, with no message. D-Bus then started the machine's gnome-keyring, locked,
# and every later test failed on its prompts. Now D-Bus starts the tests' keyring again,
# unlocked, and each such start is said at the end. The daemon runs in the foreground with
# its standard error, its exit status and any core dump kept (in $scratch/keyring), so that
# a death says what it was: the end of the run prints them.
services="$scratch/dbus-services"
mkdir -p "$services" "$scratch/keyring"
export XDRCONF_KEYRING_LOG="$scratch/keyring/daemon.log"
export XDRCONF_KEYRING_RESTARTS="$scratch/keyring/restarts.log"
export XDRCONF_KEYRING_START="$services/keyring.sh"
cat >"$services/keyring.sh" <<'SH'
#!/bin/sh
# The tests' gnome-keyring, unlocked, in the foreground: what it says and how it ends are kept.
cd "$(dirname "$XDRCONF_KEYRING_LOG")" && ulimit -c unlimited 2>/dev/null
printf "%s" "xdrconf-test-keyring" | gnome-keyring-daemon --foreground --unlock --components=secrets \
  >>"$XDRCONF_KEYRING_LOG" 2>&1
echo "$(date +%H:%M:%S) gnome-keyring-daemon ended with status $?" 2>/dev/null >>"$XDRCONF_KEYRING_LOG" || true
SH
cat >"$services/keyring-again.sh" <<'SH'
#!/bin/sh
echo "$(date +%H:%M:%S) gnome-keyring-daemon had gone; D-Bus started it again, unlocked" | tee -a "$XDRCONF_KEYRING_LOG" >>"$XDRCONF_KEYRING_RESTARTS"
exec "$(dirname "$0")/keyring.sh"
SH
chmod 755 "$services/keyring.sh" "$services/keyring-again.sh"
printf '[D-BUS Service]\nName=org.freedesktop.secrets\nExec=%s\n' "$services/keyring-again.sh" \
  >"$services/org.freedesktop.secrets.service"
sed "s|<standard_session_servicedirs />|<servicedir>$services</servicedir>|" \
  /usr/share/dbus-1/session.conf >"$scratch/dbus-session.conf"

status=0
dbus-run-session --config-file="$scratch/dbus-session.conf" -- bash -c '
  set -e
  "$XDRCONF_KEYRING_START" &
  # Ready when it owns the Secret Service name (a call before that would start a second one).
  for _ in $(seq 100); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true && break
    sleep 0.1
  done
  export XDRCONF_TEST_KEYRING=secret-service
  status=0
  # The tests marked xvfb first, on a real X server; exit 5 means the selection held none of
  # them (e.g. one file was asked for), which is no failure. Then everything else offscreen,
  # so the last summary line of the run is the big one.
  QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x800x24" "$0" -m pytest -m xvfb "$@" || status=$?
  [ "$status" -eq 5 ] && status=0
  rest=0
  QT_QPA_PLATFORM=offscreen "$0" -m pytest -m "not xvfb" "$@" || rest=$?
  [ "$rest" -ne 0 ] && status=$rest
  exit $status
' "$py" "$@" || status=$?
cores=$(find "$scratch/keyring" -name 'core*' 2>/dev/null)
if [ -s "$XDRCONF_KEYRING_RESTARTS" ] || [ -n "$cores" ]; then
  echo "xdrconf: the tests' keyring daemon died during the run:" >&2
  cat "$XDRCONF_KEYRING_RESTARTS" >&2 2>/dev/null || true
  echo "xdrconf: what the keyring daemon said (the last 40 lines):" >&2
  tail -n 40 "$XDRCONF_KEYRING_LOG" >&2
  for core in $cores; do
    echo "xdrconf: the daemon left a core dump; its stack:" >&2
    if command -v gdb >/dev/null; then
      gdb -batch -ex "thread apply all bt" "$(command -v gnome-keyring-daemon)" "$core" 2>&1 | tail -n 60 >&2
    else
      echo "(gdb is not installed: $core is removed with the run's scratch folder)" >&2
    fi
  done
fi
exit $status
