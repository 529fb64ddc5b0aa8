"""Points connectors that hard-code TikTok's hosts at the simulator.

Python imports `sitecustomize` at start-up when it is on PYTHONPATH; tests/contract/run.sh puts
this directory there for the Airbyte connector and the Singer tap. Every request made with
`requests` to https://business-api.tiktok.com or https://sandbox-ads.tiktok.com goes to
$MOCK_URL instead, path and query unchanged. Nothing else is changed in the client.
"""

import os

MOCK = os.environ.get("MOCK_URL", "").rstrip("/")
HOSTS = ("https://business-api.tiktok.com", "https://sandbox-ads.tiktok.com")

if MOCK:
    try:
        import requests.adapters

        _send = requests.adapters.HTTPAdapter.send

        def send(self, request, *args, **kwargs):
            for host in HOSTS:
                if request.url.startswith(host):
                    request.url = MOCK + request.url[len(host):]
            return _send(self, request, *args, **kwargs)

        requests.adapters.HTTPAdapter.send = send
    except ImportError:
        pass
