"""The Singer tap (tap-tiktok-ads) against `tiktok-ads mock`.

Run by tests/contract/run.sh --all with MOCK_URL set and tests/contract/redirect on PYTHONPATH
(the tap's hosts are fixed). Argument: the tap's entry point. Runs discover and a sync of every
stream; prints one line per check, `singer-tap<TAB>check<TAB>ok|failed<TAB>records or reason`,
and exits 1 when any failed.
"""

import collections
import json
import os
import subprocess
import sys
import tempfile

from common import Report, control

ENTRY = sys.argv[1]
report = Report("singer-tap")


token = control("/_mock/tokens", {})["access_token"]
work = tempfile.mkdtemp()
config = os.path.join(work, "config.json")
with open(config, "w") as f:
    json.dump({"access_token": token, "start_date": "2022-12-01T00:00:00Z",
               "end_date": "2023-03-07T00:00:00Z",
               "accounts": "7300000000000000001,7300000000000000002",
               "sandbox": "false", "request_timeout": 60}, f)

done = subprocess.run([ENTRY, "--config", config, "--discover"], capture_output=True, text=True, timeout=300)
try:
    catalog = json.loads(done.stdout)
    streams = catalog["streams"]
except (ValueError, KeyError):
    catalog, streams = None, []
report("discover", bool(streams), f"{len(streams)} streams" if streams else done.stderr[-200:])
if catalog:
    for stream in catalog["streams"]:
        for entry in stream.get("metadata", []):
            if entry.get("breadcrumb") == []:
                entry["metadata"]["selected"] = True
    path = os.path.join(work, "catalog.json")
    with open(path, "w") as f:
        json.dump(catalog, f)
    done = subprocess.run([ENTRY, "--config", config, "--catalog", path], capture_output=True,
                          text=True, timeout=900)
    records = collections.Counter()
    for line in done.stdout.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if message.get("type") == "RECORD":
            records[message["stream"]] += 1
    for stream in streams:
        name = stream["tap_stream_id"]
        report(f"sync {name}", records[name] > 0, records[name])
    report("sync exits 0", done.returncode == 0, done.stderr.strip().splitlines()[-1][:200] if done.returncode else 0)

sys.exit(report.exit_code())
