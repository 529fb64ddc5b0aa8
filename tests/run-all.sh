#!/bin/sh
# The README's test command: every test, including the one against the real OS keyring
# (Secret Service) inside a throwaway D-Bus session, and the contract suite's quick part (the
# official Python SDK against the simulator; it needs python3-venv and PyPI).
#   usage: tests/run-all.sh [cargo test options...]
# What they need (dbus, gnome-keyring, python3-venv, postgresql) is installed when it can be:
# as root, or with sudo that asks no password (Debian/Ubuntu: apt-get, no recommended extras).
# Otherwise every other test runs and one line at the end says the keyring test was skipped
# and how to enable it. TIKTOK_ADS_REQUIRE_KEYRING_TEST=1 (CI) makes a skip a failure.
# The contract suite's installs go to a new temporary directory ($CONTRACT_DIR keeps one).
set -eu
cd "$(dirname "$0")/.."

missing() {
  need=""
  command -v dbus-run-session >/dev/null 2>&1 || need="$need dbus-daemon"
  command -v dbus-send >/dev/null 2>&1 || need="$need dbus-bin"
  command -v gnome-keyring-daemon >/dev/null 2>&1 || need="$need gnome-keyring"
  # The contract suite (tests/contract/run.sh) installs the official Python SDK in a venv.
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need="$need python3-venv"
  # report sync's tests start a PostgreSQL server of their own (initdb + pg_ctl).
  command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
    || need="$need postgresql"
  # The README's report sync example (run by the tests) queries with the sqlite3 shell.
  command -v sqlite3 >/dev/null 2>&1 || need="$need sqlite3"
  # A PostgreSQL test serves TLS with a certificate it makes with openssl.
  command -v openssl >/dev/null 2>&1 || need="$need openssl"
  # The completion tests run the fish script in fish.
  command -v fish >/dev/null 2>&1 || need="$need fish"
  echo "$need"
}

need=$(missing)
if [ -n "$need" ] && command -v apt-get >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo="no"; fi
  fi
  if [ "$sudo" != "no" ]; then
    echo "run-all.sh: installing for the real-keyring test and the contract suite:$need" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || true
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null \
      || echo "run-all.sh: could not install$need" >&2
    need=$(missing)
  fi
fi

status=0
case "$need" in
  *dbus*|*keyring*)
    cargo test "$@" || status=$?
    if [ "${TIKTOK_ADS_REQUIRE_KEYRING_TEST:-}" = 1 ]; then
      echo "run-all.sh: FAILED: the real-keyring test could not run (missing:$need)" >&2
      exit 1
    fi
    skipped="the real-keyring test (tests/keyring_real.rs): missing$need. Enable it with: sudo apt-get install --no-install-recommends dbus gnome-keyring && tests/run-all.sh"
    ;;
  *)
    tests/with-secret-service.sh cargo test "$@" -- --include-ignored || status=$?
    skipped=""
    ;;
esac

# Clients nobody here wrote (the official Python SDK) against the simulator.
case "$need" in
  *python3-venv*)
    if [ "${TIKTOK_ADS_REQUIRE_KEYRING_TEST:-}" = 1 ]; then
      echo "run-all.sh: FAILED: the contract suite could not run (missing python3-venv)" >&2
      exit 1
    fi
    skipped="$skipped${skipped:+; }the contract suite (tests/contract/run.sh): missing python3-venv"
    ;;
  *)
    tests/contract/run.sh || status=$?
    ;;
esac

case "$need" in
  *postgresql*)
    if [ "${TIKTOK_ADS_REQUIRE_POSTGRES:-}" = 1 ]; then
      echo "run-all.sh: FAILED: the PostgreSQL tests could not run (missing postgresql)" >&2
      exit 1
    fi
    skipped="$skipped${skipped:+; }the PostgreSQL tests of report sync: missing postgresql"
    ;;
esac

if [ -n "$skipped" ]; then
  echo "" >&2
  echo "!!! SKIPPED $skipped" >&2
fi
exit "$status"
