"""verify close to the wire: flowdoc verify per iteration vs a plain httpx loop, whole processes.

The workload (issue 15): a client-credentials token, the API called with it, the wrong-secret 401
(benchmarks/flows/token-api.yaml; its two scenarios make those three requests). One iteration of
the baseline is those three requests in benchmarks/plain_loop.py (one httpx client, N times).

Two workloads, both printed:

(a) iterations (judged): one flow file, ``flowdoc verify --repeat N``: each iteration is the same
    plan run again over the same connections, as the plain loop repeats its requests: nothing is
    loaded or checked per iteration, by either runner. The cost of one more iteration is
    (T(100) - T(1)) / 99 for each; target: flowdoc's <= 1.3x the plain loop's (exit 1 over it).
(b) catalogue (information): N copies of the flow file (ids token-api-1..N) in one folder, one run.
    Each copy is a flow to load, check and plan besides its requests, which the plain loop never
    does: its ratio measures flow loading too, so it is printed, not judged.

Requests and connections are counted on the server side (counting proxies in front of the provider
and of the API) at N=10 for both flowdoc workloads and the plain loop: the same requests over as
many connections. Whole processes, N = 1 and N = 100, interleaved rounds, medians.

Starts its own test server (tests/node/oidc_server.mjs).
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
RUNNERS = ("plain httpx", "flowdoc --repeat", "flowdoc copies")


def flow_copies(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    text = FLOW.read_text(encoding="utf-8")
    for i in range(1, n + 1):
        (folder / f"token-api-{i}.yaml").write_text(text.replace("id: token-api\n", f"id: token-api-{i}\n", 1),
                                                   encoding="utf-8")
    return folder


def commands(token_url: str, api_url: str, ns: list[int], copies: dict[int, Path]) -> dict[str, list[str]]:
    inputs = ["--input", f"token_url={token_url}", "--input", f"api_url={api_url}",
              "--input", "client_id=flowdoc-service"]
    out = {}
    for n in ns:
        out[f"plain httpx N={n}"] = [PY, str(PLAIN), token_url, api_url, "flowdoc-service", str(n)]
        out[f"flowdoc --repeat N={n}"] = [PY, "-m", "flowdoc", "verify", "-q", str(FLOW), *inputs, "--repeat", str(n)]
        out[f"flowdoc copies N={n}"] = [PY, "-m", "flowdoc", "verify", "-q", str(copies[n]), *inputs]
    return out


def count_requests(srv, env, copies: Path, n: int) -> bool:
    """Every runner through counting proxies: the same requests, the same number of connections."""
    seen = {}
    with LatencyProxy(*_host_port(srv.issuer)) as auth, LatencyProxy(*_host_port(srv.resource)) as api:
        for name, cmd in commands(auth.url, api.url, [n], {n: copies}).items():
            auth.reset(), api.reset()
            run(cmd, env)
            seen[name.split(" N=")[0]] = (auth.requests, api.requests, auth.connections + api.connections)
    print(f"counted at the servers, N={n}: (requests to the provider, to the API, TCP connections)")
    for name, (a, b, c) in seen.items():
        print(f"  {name:<18} {a:4d} {b:4d} {c:4d}")
    same = all(counts[:2] == (2 * n, n) for counts in seen.values())
    print(f"  same requests: {'yes' if same else 'NO'}; connections: "
          + ", ".join(f"{name} {counts[2]}" for name, counts in seen.items()))
    return same


def _host_port(url: str) -> tuple[str, int]:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    return host, int(port)


def measure(srv, env, copies: dict[int, Path], rounds: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall time and median client CPU time of each command, rounds interleaved (every
    command once per round)."""
    cmds = commands(srv.issuer, srv.resource, [1, BIG], copies)
    for cmd in cmds.values():
        run(cmd, env)  # warm up
    samples: dict[str, list[tuple[float, float, str]]] = {name: [] for name in cmds}
    for _ in range(rounds):
        for name, cmd in cmds.items():
            samples[name].append(run(cmd, env))
    cpu = {name: statistics.median(s[0] for s in got) for name, got in samples.items()}
    wall = {name: statistics.median(s[1] for s in got) for name, got in samples.items()}
    return wall, cpu


def per_iteration(times: dict[str, float]) -> dict[str, float]:
    """The cost of one more iteration of each runner: (T(BIG) - T(1)) / (BIG - 1)."""
    return {r: (times[f"{r} N={BIG}"] - times[f"{r} N=1"]) / (BIG - 1) for r in RUNNERS}


def main() -> int:
    """Exit status 1 when the per-iteration ratio of --repeat is over its target (1.3x), or the
    request counts differ."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory(prefix="flowdoc-wire-") as tmp, start_oidc_server() as srv:
        copies = {n: flow_copies(Path(tmp) / f"n{n}", n) for n in (1, 10, BIG)}
        env = bench_env({"FLOWDOC_CLIENT_SECRET": srv.secrets["flowdoc-service"]})
        same = count_requests(srv, env, copies[10], 10)
        med, cpu = measure(srv, env, copies, rounds)
    print(f"whole processes, {rounds} interleaved rounds, medians; {load()}")
    for name, t in med.items():
        print(f"  {name:<26} {t:6.3f} s")
    per, per_cpu = per_iteration(med), per_iteration(cpu)
    ratio = {r: per[r] / per["plain httpx"] for r in RUNNERS}
    plain = per["plain httpx"] * 1000
    print(f"(a) iterations, per extra iteration: plain httpx {plain:.2f} ms, flowdoc verify --repeat "
          f"{per['flowdoc --repeat'] * 1000:.2f} ms; ratio {ratio['flowdoc --repeat']:.2f}x "
          f"(target <= {TARGET}x): {'ok' if ratio['flowdoc --repeat'] <= TARGET else 'OVER TARGET'}")
    print(f"(b) catalogue, per extra flow file (information, not judged): flowdoc verify "
          f"{per['flowdoc copies'] * 1000:.2f} ms; ratio {ratio['flowdoc copies']:.2f}x -- each copy is also a flow "
          f"loaded, checked and planned ({(per['flowdoc copies'] - per['flowdoc --repeat']) * 1000:.2f} ms more than "
          "an iteration), which the plain loop never does")
    print("  client CPU per extra iteration (information; the server's CPU is the same for all): "
          + ", ".join(f"{r} {per_cpu[r] * 1000:.2f} ms" for r in RUNNERS)
          + f"; --repeat / plain {per_cpu['flowdoc --repeat'] / per_cpu['plain httpx']:.2f}x")
    print(f"  N=1 whole process: flowdoc verify {med['flowdoc --repeat N=1']:.3f} s "
          f"vs plain httpx {med['plain httpx N=1']:.3f} s")
    if ratio["flowdoc --repeat"] > TARGET:
        print(f"OVER TARGET: ratio {ratio['flowdoc --repeat']:.2f} is above {TARGET}", file=sys.stderr)
    return 0 if ratio["flowdoc --repeat"] <= TARGET and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
