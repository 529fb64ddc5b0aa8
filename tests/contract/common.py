"""What the Python contract checks share: the simulator's control API and the report lines."""

import json
import os
import urllib.request

MOCK = os.environ["MOCK_URL"].rstrip("/")


def control(path, body=None):
    """A call to the simulator's control API (`/_mock/...`), answered with JSON."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(MOCK + path, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())


class Report:
    """Prints `client<TAB>check<TAB>ok|failed<TAB>detail` lines and remembers failures."""

    def __init__(self, client):
        self.client = client
        self.failed = []

    def __call__(self, check, ok, detail):
        if not ok:
            self.failed.append(check)
        print(f"{self.client}\t{check}\t{'ok' if ok else 'failed'}\t{detail}")

    def exit_code(self):
        return 1 if self.failed else 0
