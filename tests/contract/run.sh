#!/usr/bin/env bash
# The contract suite: clients nobody here wrote, run unchanged against `tiktok-ads mock`, so the
# simulator is held to what real clients send and expect.
#
#   tests/contract/run.sh          the official Python SDK (quick; what CI runs)
#   tests/contract/run.sh --all    also the official JavaScript SDK, the Airbyte connector and
#                                  the Singer tap (installs a few hundred MB; on demand)
#
# Installs go to a scratch directory ($CONTRACT_DIR to keep and reuse one). The binary is
# $TIKTOK_ADS_BIN, else built with cargo. Prints a table client × check → ok/failed and record
# counts; exits 1 when any check failed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
all=false
[ "${1:-}" = "--all" ] && all=true

bin="${TIKTOK_ADS_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --quiet --manifest-path "$root/Cargo.toml"
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/tiktok-ads"
fi
scratch="${CONTRACT_DIR:-$(mktemp -d -t tiktok-ads-contract-XXXXXX)}"
mkdir -p "$scratch"
results="$scratch/results.tsv"
: > "$results"

# The simulator, on a free port, with a state of its own.
work="$(mktemp -d -t tiktok-ads-contract-run-XXXXXX)"
env -u TIKTOK_APP_SECRET "$bin" mock --port 0 > "$work/url" 2> "$work/mock.log" &
mock_pid=$!
trap 'kill $mock_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
MOCK_URL="$(head -1 "$work/url")"
export MOCK_URL
echo "simulator: $MOCK_URL"

venv() { # venv DIR PACKAGE...: a virtualenv with the packages, made once
  local dir="$1"; shift
  if [ ! -x "$dir/bin/python" ]; then
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
  fi
}

record() { # record CLIENT: runs the rest, appends its lines, remembers a failure
  local client="$1"; shift
  if ! "$@" >> "$results" 2> "$scratch/$client.err"; then
    grep -q "^$client	" "$results" || printf '%s\t%s\tfailed\tsee %s\n' "$client" "(run)" "$scratch/$client.err" >> "$results"
    echo "$client: failed (stderr in $scratch/$client.err)" >&2
  fi
}

venv "$scratch/python-sdk" "tiktok-business-api-sdk-official==1.1.3"
record python-sdk "$scratch/python-sdk/bin/python" "$here/python_sdk.py"

if $all; then
  if [ ! -d "$scratch/js-sdk/node_modules/tiktok-business-api-sdk-official" ]; then
    npm install --silent --prefix "$scratch/js-sdk" tiktok-business-api-sdk-official@1.1.3 >/dev/null
  fi
  record js-sdk env SDK_DIR="$scratch/js-sdk/node_modules/tiktok-business-api-sdk-official" node "$here/js_sdk.mjs"

  venv "$scratch/airbyte" "airbyte-source-tiktok-marketing==4.7.0"
  record airbyte env PYTHONPATH="$here/redirect" "$scratch/airbyte/bin/python" "$here/airbyte.py" "$scratch/airbyte/bin/source-tiktok-marketing"

  venv "$scratch/singer" "tap-tiktok-ads==1.2.1"
  record singer-tap env PYTHONPATH="$here/redirect" "$scratch/singer/bin/python" "$here/singer_tap.py" "$scratch/singer/bin/tap-tiktok-ads"
fi

echo
printf 'CLIENT\tCHECK\tRESULT\tRECORDS\n' | cat - "$results" \
  | awk -F '\t' '{ printf "%-12s %-36s %-7s %s\n", $1, $2, $3, $4 }'
if grep -q "	failed	" "$results"; then
  echo "contract suite: FAILED" >&2
  exit 1
fi
echo "contract suite: every check passed"
