#!/bin/sh
# The README's test command: every test, including the one against the real OS keyring
# (Secret Service) inside a throwaway D-Bus session.
#   usage: tests/run-all.sh [cargo test options...]
# What the real-keyring test needs (dbus and gnome-keyring) is installed when it can be:
# as root, or with sudo that asks no password (Debian/Ubuntu: apt-get, no recommended extras).
# Otherwise every other test runs and one line at the end says the keyring test was skipped
# and how to enable it. TIKTOK_ADS_REQUIRE_KEYRING_TEST=1 (CI) makes a skip a failure.
set -eu
cd "$(dirname "$0")/.."

missing() {
  need=""
  command -v dbus-run-session >/dev/null 2>&1 || need="$need dbus-daemon"
  command -v dbus-send >/dev/null 2>&1 || need="$need dbus-bin"
  command -v gnome-keyring-daemon >/dev/null 2>&1 || need="$need gnome-keyring"
  echo "$need"
}

need=$(missing)
if [ -n "$need" ] && command -v apt-get >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo="no"; fi
  fi
  if [ "$sudo" != "no" ]; then
    echo "run-all.sh: installing for the real-keyring test:$need" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || true
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null \
      || echo "run-all.sh: could not install$need" >&2
    need=$(missing)
  fi
fi

if [ -z "$need" ]; then
  exec tests/with-secret-service.sh cargo test "$@" -- --include-ignored
fi

status=0
cargo test "$@" || status=$?
if [ "${TIKTOK_ADS_REQUIRE_KEYRING_TEST:-}" = 1 ]; then
  echo "run-all.sh: FAILED: the real-keyring test could not run (missing:$need)" >&2
  exit 1
fi
echo "" >&2
echo "!!! SKIPPED the real-keyring test (tests/keyring_real.rs): missing$need. Enable it with: sudo apt-get install --no-install-recommends dbus gnome-keyring && tests/run-all.sh" >&2
exit "$status"
