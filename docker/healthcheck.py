"""Container healthcheck for the web service: GET /healthz on the local gunicorn.

The request looks like one the proxy forwards (a host from ALLOWED_HOSTS, https in
X-Forwarded-Proto): otherwise Django would answer 400 (unknown host) or redirect to https.
Exit status 0 when the answer is 200 "ok".
"""

import os
import sys
import urllib.request

host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".")
if host in ("", "*"):
    host = "localhost"
request = urllib.request.Request("http://127.0.0.1:8000/healthz",
                                 headers={"Host": host, "X-Forwarded-Proto": "https"})
try:
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - fixed URL
        healthy = response.status == 200 and response.read() == b"ok"
except OSError as exc:
    print(exc, file=sys.stderr)
    healthy = False
sys.exit(0 if healthy else 1)
