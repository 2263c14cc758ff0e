"""flowdoc verify: the cost of the verifier over plain HTTP, and what running scenarios at once buys.

1. The client-credentials happy path (POST /token with client_secret_basic, JWT checked against
   the JWKS, GET /api/me with the token) N times (default 300) through one Verifier (one
   connection pool and JWKS cache, a fresh cookie jar per scenario), against a plain httpx loop
   making the same two requests on one client. Target: ratio <= 1.3x.
2. 50 scenarios (every scenario of client-credentials and of authorization-code-pkce, repeated)
   one after another (--jobs 1) and concurrently (--jobs 10), for information: against a loopback
   server with no latency the run is bound by CPU, and two CPUs gain little. What concurrency buys
   against a server with latency is measured, with a target, by bench_jobs.py.

Starts its own test server (tests/node/oidc_server.mjs; needs `npm ci --prefix tests/node`).
Run: python benchmarks/bench_verify.py [N]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from flowdoc.verify import Verifier, VerifyOptions, load_flows  # noqa: E402
from tests.support.oidc import start_oidc_server  # noqa: E402
from tests.support.verify_inputs import random_server_env, verify_inputs  # noqa: E402

FLOWS = ROOT / "flows"


def options_for(srv, **kw) -> VerifyOptions:
    cli, env_text = verify_inputs(srv, short_ttl=False)
    inputs = dict(a.split("=", 1) for a in cli[1::2])
    env = dict(line.split("=", 1) for line in env_text.splitlines() if line and not line.startswith("#"))
    return VerifyOptions(inputs=inputs, env=env, **kw)


def plain_runner(srv):
    secret = srv.secrets["flowdoc-service"]
    client = httpx.Client(timeout=10)

    def once() -> None:
        r = client.post(srv.issuer + "/token", data={"grant_type": "client_credentials", "scope": "api:read"},
                        auth=("flowdoc-service", secret))
        assert r.status_code == 200, r.status_code
        me = client.get(srv.resource + "/api/me", headers={"Authorization": "Bearer " + r.json()["access_token"]})
        assert me.status_code == 200, me.status_code

    def run(n: int) -> float:
        t = time.perf_counter()
        for _ in range(n):
            once()
        return time.perf_counter() - t

    return run, client.close


def verify_runner(srv, flows):
    v = Verifier(options_for(srv, scenarios=["client-credentials/happy-path"]))
    plan = v.plan(flows)
    assert len(plan) == 1

    def run(n: int) -> float:
        t = time.perf_counter()
        for _ in range(n):
            res = v.run(flows, scenarios=plan)
            if res.exit_code != 0:
                raise SystemExit(f"scenario failed: {res.scenarios[0].failure}")
        return time.perf_counter() - t

    return run, v.close


def fifty(srv, flows, jobs: int) -> tuple[float, int]:
    with Verifier(options_for(srv, jobs=jobs, scenarios=["client-credentials", "authorization-code-pkce"])) as v:
        base = v.plan(flows)
        plan = (base * (50 // len(base) + 1))[:50]
        t = time.perf_counter()
        res = v.run(flows, scenarios=plan)
        took = time.perf_counter() - t
        bad = [s.id for s in res.scenarios if s.status != "passed"]
        if bad:
            raise SystemExit(f"scenarios failed: {bad}")
        return took, len(plan)


def main() -> int:
    """Exit status 1 when the median of the rounds' ratios (each round runs both, interleaved) is over its target (1.3x)."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    flows = load_flows([FLOWS])
    with start_oidc_server(env=random_server_env()) as srv:
        print(f"server {srv.issuer}; {n} client-credentials scenarios (2 requests each)")
        plain, close_plain = plain_runner(srv)
        ours, close_ours = verify_runner(srv, flows)
        plain(50), ours(50)  # warm up both (connections, JWKS, the server's JIT)
        rounds = []
        for _ in range(5):  # interleaved, so load from elsewhere on the machine hits both alike
            rounds.append((plain(n), ours(n)))
        close_plain(), close_ours()
        for i, (base, mine) in enumerate(rounds, 1):
            print(f"  round {i}: plain httpx {base:.3f} s ({base / n * 1000:.2f} ms each), "
                  f"flowdoc verify {mine:.3f} s ({mine / n * 1000:.2f} ms each), ratio {mine / base:.2f}x")
        best = min(m for _b, m in rounds) / min(b for b, _m in rounds)
        median = statistics.median(m / b for b, m in rounds)
        print(f"  best-of-5 ratio {best:.2f}x, median ratio {median:.2f}x "
              f"(target for the median <= 1.3x): {'ok' if median <= 1.3 else 'OVER TARGET'}")

        seq, count = fifty(srv, flows, 1)
        par, _ = fifty(srv, flows, 10)
        print(f"{count} scenarios (client-credentials + authorization-code-pkce, every branch, repeated)")
        print(f"  one after another (--jobs 1): {seq:.3f} s")
        print(f"  concurrently     (--jobs 10): {par:.3f} s  speed-up {seq / par:.2f}x")
    return 0 if median <= 1.3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
