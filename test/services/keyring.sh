#!/usr/bin/env bash
# Runs a command with a Secret Service: a private D-Bus session bus (dbus-run-session) holding
# an unlocked gnome-keyring, so that @napi-rs/keyring works headless.
#   test/services/keyring.sh npm test
# The keyring lives in a fresh temporary directory and is gone afterwards, so no secret a test
# stores outlives the run. With no password gnome-keyring creates no login collection, so a
# fixed, throwaway one unlocks it. Exits with the command's status.
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: test/services/keyring.sh <command...>" >&2
  exit 2
fi
for tool in dbus-run-session dbus-daemon gnome-keyring-daemon dbus-send; do
  command -v "$tool" >/dev/null || {
    echo "keyring.sh: $tool is missing; run test/services/install.sh (as root)" >&2
    exit 1
  }
done

ORRERY_KEYRING_DATA=$(mktemp -d -t orrery-keyring.XXXXXX)
export ORRERY_KEYRING_DATA
trap 'rm -rf "$ORRERY_KEYRING_DATA"' EXIT

# dbus-daemon's own messages go to a log: in a sandbox it warns at every start that it may not
# raise its fd limit, which is harmless and would only confuse test output.
printf '#!/bin/sh\nexec %s "$@" 2>>"%s/dbus-daemon.log"\n' \
  "$(command -v dbus-daemon)" "$ORRERY_KEYRING_DATA" >"$ORRERY_KEYRING_DATA/dbus-daemon"
chmod 755 "$ORRERY_KEYRING_DATA/dbus-daemon"

# The inner shell starts the daemon on the new bus, waits until it owns the Secret Service
# name, then runs the command. The daemon exits when dbus-run-session closes the bus.
set +e
dbus-run-session --dbus-daemon="$ORRERY_KEYRING_DATA/dbus-daemon" -- bash -c '
  set -euo pipefail
  runtime=$ORRERY_KEYRING_DATA/runtime
  mkdir -m 700 "$runtime"
  # gnome-keyring keeps its keyring files in XDG_DATA_HOME and its control socket in
  # XDG_RUNTIME_DIR; both point into the temporary directory, for the daemon only.
  eval "$(printf %s orrery-keyring |
    XDG_DATA_HOME=$ORRERY_KEYRING_DATA XDG_RUNTIME_DIR=$runtime \
    gnome-keyring-daemon --unlock --components=secrets | sed "s/^/export /")"
  owned=false
  for _ in $(seq 1 50); do
    if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
      grep -q "boolean true"; then
      owned=true
      break
    fi
    sleep 0.1
  done
  if [[ $owned != true ]]; then
    echo "keyring.sh: gnome-keyring-daemon did not take org.freedesktop.secrets on the session bus" >&2
    cat "$ORRERY_KEYRING_DATA/dbus-daemon.log" >&2 || true
    exit 1
  fi
  unset ORRERY_KEYRING_DATA
  exec "$@"
' keyring "$@"
rc=$?
exit "$rc"
