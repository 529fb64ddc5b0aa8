#!/bin/sh
# Runs a command inside a throwaway D-Bus session with an unlocked gnome-keyring (Secret
# Service), so tests can use the real OS keyring on a headless machine or in CI.
#   usage: tests/with-secret-service.sh CMD [ARGS...]
# Needs: dbus-run-session, dbus-send (Debian: dbus) and gnome-keyring-daemon (gnome-keyring).
# The daemon is started in the foreground with its PID kept, and the command waits until it
# owns org.freedesktop.secrets: D-Bus activation of a second, locked instance (which would
# also keep the output pipe open after the session ends) cannot happen.
set -eu
for tool in dbus-run-session dbus-send gnome-keyring-daemon; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "with-secret-service.sh: $tool not found (Debian/Ubuntu: apt-get install dbus gnome-keyring)" >&2
    exit 127
  }
done
XDG_DATA_HOME="$(mktemp -d)"      # a fresh login keyring each run: no old password to mismatch
export XDG_DATA_HOME
XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
export XDG_RUNTIME_DIR
chmod 700 "$XDG_RUNTIME_DIR"
exec dbus-run-session -- sh -c '
  printf %s throwaway-keyring-password | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
  gkd=$!
  n=0
  until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; do
    n=$((n+1))
    if [ "$n" -ge 200 ]; then echo "the Secret Service did not start" >&2; kill "$gkd"; exit 1; fi
    sleep 0.05
  done
  rc=0
  "$@" || rc=$?
  kill "$gkd" 2>/dev/null || true
  wait "$gkd" 2>/dev/null || true
  exit "$rc"' sh "$@"
