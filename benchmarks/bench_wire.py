"""verify close to the wire: flowdoc verify per iteration vs a plain httpx loop, whole processes.

The workload (issue 15): a client-credentials token, the API called with it, the wrong-secret 401
(benchmarks/flows/token-api.yaml; its two scenarios make those three requests). One iteration of
flowdoc verify is one copy of that flow (N copies, ids token-api-1..N, in one folder); one iteration
of the baseline is the same three requests in benchmarks/plain_loop.py (one httpx client).

1. Requests and connections are counted on the server side (a counting proxy in front of the
   provider and of the API): both runners must send the same requests over as many connections.
2. Whole processes, N = 1 and N = 100, interleaved rounds, medians; the cost of one more iteration
   is (T(100) - T(1)) / 99. Target: flowdoc's <= 1.3x the plain loop's.

Starts its own test server (tests/node/oidc_server.mjs). Exits 1 over the target.
Run: python benchmarks/bench_wire.py [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _procs import PY, ROOT, bench_env, load, run
from _proxy import LatencyProxy

from tests.support.oidc import start_oidc_server

FLOW = ROOT / "benchmarks" / "flows" / "token-api.yaml"
PLAIN = ROOT / "benchmarks" / "plain_loop.py"
TARGET = 1.3
BIG = 100


def flow_copies(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    text = FLOW.read_text(encoding="utf-8")
    for i in range(1, n + 1):
        (folder / f"token-api-{i}.yaml").write_text(text.replace("id: token-api\n", f"id: token-api-{i}\n", 1),
                                                   encoding="utf-8")
    return folder


def commands(token_url: str, api_url: str, folders: dict[int, Path]) -> dict[str, list[str]]:
    out = {}
    for n, folder in folders.items():
        out[f"plain httpx N={n}"] = [PY, str(PLAIN), token_url, api_url, "flowdoc-service", str(n)]
        out[f"flowdoc verify N={n}"] = [PY, "-m", "flowdoc", "verify", "-q", str(folder), "--input",
                                        f"token_url={token_url}", "--input", f"api_url={api_url}",
                                        "--input", "client_id=flowdoc-service"]
    return out


def count_requests(srv, env, folder: Path, n: int) -> bool:
    """Both runners through counting proxies: the same requests, the same number of connections."""
    seen = {}
    with LatencyProxy(*_host_port(srv.issuer)) as auth, LatencyProxy(*_host_port(srv.resource)) as api:
        for name, cmd in commands(auth.url, api.url, {n: folder}).items():
            auth.reset(), api.reset()
            run(cmd, env)
            seen[name.split(" N=")[0]] = (auth.requests, api.requests, auth.connections + api.connections)
    print(f"counted at the servers, N={n}: (requests to the provider, to the API, TCP connections)")
    for name, (a, b, c) in seen.items():
        print(f"  {name:<16} {a:4d} {b:4d} {c:4d}")
    plain, ours = seen["plain httpx"], seen["flowdoc verify"]
    same = plain[:2] == ours[:2] == (2 * n, n)
    print(f"  same requests: {'yes' if same else 'NO'}; connections: plain {plain[2]}, flowdoc {ours[2]}")
    return same


def _host_port(url: str) -> tuple[str, int]:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    return host, int(port)


def main() -> int:
    """Exit status 1 when the per-iteration ratio is over its target (1.3x), or the request counts differ."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory(prefix="flowdoc-wire-") as tmp, start_oidc_server() as srv:
        folders = {1: flow_copies(Path(tmp) / "n1", 1), BIG: flow_copies(Path(tmp) / f"n{BIG}", BIG)}
        env = bench_env({"FLOWDOC_CLIENT_SECRET": srv.secrets["flowdoc-service"]})
        same = count_requests(srv, env, flow_copies(Path(tmp) / "n10", 10), 10)
        cmds = commands(srv.issuer, srv.resource, folders)
        for cmd in cmds.values():
            run(cmd, env)  # warm up
        times: dict[str, list[float]] = {name: [] for name in cmds}
        for _ in range(rounds):
            for name, cmd in cmds.items():
                times[name].append(run(cmd, env)[1])
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"whole processes, {rounds} interleaved rounds, medians; {load()}")
    for name, t in med.items():
        print(f"  {name:<22} {t:6.3f} s")
    per = {r: (med[f"{r} N={BIG}"] - med[f"{r} N=1"]) / (BIG - 1) for r in ("plain httpx", "flowdoc verify")}
    ratio = per["flowdoc verify"] / per["plain httpx"]
    print(f"  per extra iteration: plain httpx {per['plain httpx'] * 1000:.2f} ms, "
          f"flowdoc verify {per['flowdoc verify'] * 1000:.2f} ms; ratio {ratio:.2f}x "
          f"(target <= {TARGET}x): {'ok' if ratio <= TARGET else 'OVER TARGET'}")
    print(f"  N=1 whole process: flowdoc verify {med['flowdoc verify N=1']:.3f} s "
          f"vs plain httpx {med['plain httpx N=1']:.3f} s")
    if ratio > TARGET:
        print(f"OVER TARGET: ratio {ratio:.2f} is above {TARGET}", file=sys.stderr)
    return 0 if ratio <= TARGET and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
