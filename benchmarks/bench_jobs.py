"""Concurrency that pays: 50 scenarios against a server with 20 ms of latency per request,
``flowdoc verify --jobs 8`` against ``--jobs 1``.

The latency comes from a small proxy on 127.0.0.1 in front of the test server (benchmarks/_proxy.py:
each request reaches the server 20 ms after it was sent). The scenarios: 25 copies of
benchmarks/flows/token-api.yaml (two scenarios each: 75 requests). Each run is a whole
``flowdoc verify`` process; the time compared is the run of the scenarios (``duration`` in
--report-json: planning and running, not Python's start-up), the whole process is shown too.
Target: --jobs 8 at least 5x faster than --jobs 1 (medians of interleaved rounds). Each run must send
the same requests (counted at the proxies); the proxies' own CPU per run is shown (they run in this
process, on an asyncio loop of their own: a few ms per run, never the bottleneck).

Starts its own test server (tests/node/oidc_server.mjs). Exits 1 under the target.
Run: python benchmarks/bench_jobs.py [ROUNDS]
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _procs import PY, bench_env, load, run
from _proxy import LatencyProxy
from bench_wire import _host_port, flow_copies

from tests.support.oidc import start_oidc_server

DELAY = 0.020
COPIES = 25  # two scenarios each
TARGET = 5.0


def verify(folder: Path, auth: str, api: str, jobs: int, report: Path, env: dict) -> tuple[float, float, int]:
    """(run duration, whole process wall time, scenarios) of one ``flowdoc verify --jobs JOBS``."""
    _cpu, wall, _out = run([PY, "-m", "flowdoc", "verify", "-q", str(folder), "--jobs", str(jobs),
                            "--report-json", str(report), "--input", f"token_url={auth}", "--input", f"api_url={api}",
                            "--input", "client_id=flowdoc-service"], env)
    data = json.loads(report.read_text(encoding="utf-8"))
    scenarios = sum(len(f["scenarios"]) for f in data["flows"])
    return data["duration"], wall, scenarios


def main() -> int:
    """Exit status 1 when the speed-up of --jobs 8 is under its target (5x), or scenarios are missing."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory(prefix="flowdoc-jobs-") as tmp, start_oidc_server() as srv:
        folder = flow_copies(Path(tmp) / "flows", COPIES)
        report = Path(tmp) / "report.json"
        env = bench_env({"FLOWDOC_CLIENT_SECRET": srv.secrets["flowdoc-service"]})
        with LatencyProxy(*_host_port(srv.issuer), delay=DELAY) as auth, \
                LatencyProxy(*_host_port(srv.resource), delay=DELAY) as api:
            verify(folder, auth.url, api.url, 8, report, env)  # warm up
            times: dict[int, list[tuple[float, float]]] = {1: [], 8: []}
            count, sent, proxy_cpu = 0, set(), []
            for _ in range(rounds):
                for jobs in (1, 8):
                    auth.reset(), api.reset()
                    before = _own_cpu()
                    duration, wall, count = verify(folder, auth.url, api.url, jobs, report, env)
                    proxy_cpu.append(_own_cpu() - before)
                    times[jobs].append((duration, wall))
                    sent.add(auth.requests + api.requests)
            requests = auth.requests + api.requests
    med = {j: (statistics.median(d for d, _w in t), statistics.median(w for _d, w in t)) for j, t in times.items()}
    print(f"{count} scenarios, {requests} requests, {DELAY * 1000:.0f} ms of latency each; "
          f"{rounds} interleaved rounds, medians; {load()}")
    print(f"  requests per run: {sorted(sent)} (the same in every run: {'yes' if len(sent) == 1 else 'NO'}); "
          f"the proxies' CPU per run: {statistics.median(proxy_cpu) * 1000:.0f} ms")
    for jobs, (duration, wall) in med.items():
        print(f"  --jobs {jobs}: scenarios run in {duration:6.3f} s   (whole process {wall:6.3f} s)")
    speedup = med[1][0] / med[8][0]
    print(f"  speed-up {speedup:.2f}x (whole process {med[1][1] / med[8][1]:.2f}x); target >= {TARGET}x: "
          f"{'ok' if speedup >= TARGET else 'UNDER TARGET'}")
    if speedup < TARGET:
        print(f"UNDER TARGET: speed-up {speedup:.2f} is below {TARGET}", file=sys.stderr)
    return 0 if speedup >= TARGET and count == 2 * COPIES and len(sent) == 1 else 1


def _own_cpu() -> float:
    """CPU seconds of this process so far: the proxies' threads (and the test server's log reader)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    raise SystemExit(main())
