"""The baseline of bench_wire.py: the requests of benchmarks/flows/token-api.yaml with plain httpx.

One client (so one pool: connections reused), N iterations of: POST /token (client_secret_basic)
-> 200 with a JSON body; GET /api/me with the token -> 200; POST /token with a wrong secret -> 401
invalid_client. Run: python plain_loop.py TOKEN_URL API_URL CLIENT_ID N (the secret in
FLOWDOC_CLIENT_SECRET).
"""

from __future__ import annotations

import os
import sys

import httpx


def main() -> None:
    token_url, api_url, client_id, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    secret = os.environ["FLOWDOC_CLIENT_SECRET"]
    form = {"grant_type": "client_credentials", "scope": "api:read"}
    with httpx.Client(timeout=10) as client:
        for _ in range(n):
            r = client.post(token_url + "/token", data=form, auth=(client_id, secret))
            assert r.status_code == 200 and r.json()["token_type"] == "Bearer", r.status_code
            me = client.get(api_url + "/api/me", headers={"Authorization": "Bearer " + r.json()["access_token"]})
            assert me.status_code == 200 and "sub" in me.json(), me.status_code
            bad = client.post(token_url + "/token", data=form, auth=(client_id, "not-the-secret"))
            assert bad.status_code == 401 and bad.json()["error"] == "invalid_client", bad.status_code


if __name__ == "__main__":
    main()
