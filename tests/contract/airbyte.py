"""The Airbyte connector (airbyte-source-tiktok-marketing) against `tiktok-ads mock`.

Run by tests/contract/run.sh --all with MOCK_URL set and tests/contract/redirect on PYTHONPATH
(the connector's hosts are fixed). Argument: the connector's entry point. Runs `check`,
`discover` and a `read` of its entity and daily report streams; prints one line per check,
`airbyte<TAB>check<TAB>ok|failed<TAB>records or reason`, and exits 1 when any failed.
"""

import collections
import json
import os
import subprocess
import sys
import tempfile

from common import Report, control

ENTRY = sys.argv[1]
STREAMS = [
    "advertisers", "campaigns", "ad_groups", "ads",
    "advertisers_reports_daily", "campaigns_reports_daily", "ad_groups_reports_daily",
    "ads_reports_daily", "ads_reports_by_country_daily", "campaigns_reports_lifetime",
    "ads_audience_reports_daily",
]
report = Report("airbyte")


def run(*args):
    done = subprocess.run([ENTRY, *args], capture_output=True, text=True, timeout=900)
    messages = []
    for line in done.stdout.splitlines():
        try:
            messages.append(json.loads(line))
        except ValueError:
            pass
    return messages, done


app = control("/_mock/app")
token = control("/_mock/tokens", {})["access_token"]
work = tempfile.mkdtemp()
config = os.path.join(work, "config.json")
with open(config, "w") as f:
    json.dump({
        "credentials": {"auth_type": "oauth2.0", "app_id": app["app_id"], "secret": app["app_secret"],
                        "access_token": token},
        "start_date": "2023-01-01", "end_date": "2023-03-07", "attribution_window": 0,
        "include_deleted": True,
    }, f)

messages, done = run("check", "--config", config)
status = [m["connectionStatus"] for m in messages if m.get("type") == "CONNECTION_STATUS"]
report("check", bool(status) and status[0].get("status") == "SUCCEEDED",
       status[0].get("message") or "" if status else done.stderr[-200:])

messages, done = run("discover", "--config", config)
catalogs = [m["catalog"] for m in messages if m.get("type") == "CATALOG"]
streams = {s["name"]: s for s in catalogs[0]["streams"]} if catalogs else {}
report("discover", bool(streams), f"{len(streams)} streams" if streams else done.stderr[-200:])

chosen = [s for s in STREAMS if s in streams]
catalog = os.path.join(work, "catalog.json")
with open(catalog, "w") as f:
    json.dump({"streams": [{
        "stream": streams[name], "sync_mode": "full_refresh", "destination_sync_mode": "overwrite",
    } for name in chosen]}, f)
messages, done = run("read", "--config", config, "--catalog", catalog)
records = collections.Counter(m["record"]["stream"] for m in messages if m.get("type") == "RECORD")
errors = [m for m in messages
          if (m.get("type") == "TRACE" and m["trace"].get("type") == "ERROR")
          or (m.get("type") == "LOG" and m["log"].get("level") in ("ERROR", "FATAL"))]
for name in chosen:
    report(f"read {name}", records[name] > 0, records[name])
report("read without errors", not errors and done.returncode == 0,
       json.dumps(errors[0])[:200] if errors else f"exit {done.returncode}")

sys.exit(report.exit_code())
