"""Start-up: ``flowdoc --help`` / ``--version`` CPU, and one ``flowdoc verify`` of one flow, whole process.

Each is measured against ``python3 -c pass`` in the same run (interleaved rounds, medians):
  --help, --version   CPU (user + system) <= 150 ms            (and shown: the ratio to python -c pass)
  verify of one flow  wall time of the whole process <= 0.6 s  (benchmarks/flows/token-api.yaml:
                      its two scenarios, three requests, against the test server on 127.0.0.1)

Starts its own test server (tests/node/oidc_server.mjs). Exits 1 over a target.
Run: python benchmarks/bench_startup.py [ROUNDS]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _procs import PY, ROOT, bench_env, load, medians, run

from tests.support.oidc import start_oidc_server

FLOW = ROOT / "benchmarks" / "flows" / "token-api.yaml"
CPU_TARGET = 0.150
VERIFY_TARGET = 0.6


def main() -> int:
    """Exit status 1 when a median is over its target (CPU of --help/--version, wall of one verify)."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    with start_oidc_server() as srv:
        env = bench_env({"FLOWDOC_CLIENT_SECRET": srv.secrets["flowdoc-service"]})
        commands = {
            "python3 -c pass": [PY, "-c", "pass"],
            "flowdoc --version": [PY, "-m", "flowdoc", "--version"],
            "flowdoc --help": [PY, "-m", "flowdoc", "--help"],
            "flowdoc verify (1 flow)": [PY, "-m", "flowdoc", "verify", "-q", str(FLOW),
                                        "--input", f"token_url={srv.issuer}", "--input", f"api_url={srv.resource}",
                                        "--input", "client_id=flowdoc-service"],
        }
        for cmd in commands.values():
            run(cmd, env)  # warm up: bytecode written, files in the page cache, the server's JIT
        samples: dict[str, list] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, cmd in commands.items():
                samples[name].append(run(cmd, env))
    print(f"{rounds} interleaved rounds, medians; {load()}")
    base_cpu, _base_wall = medians(samples["python3 -c pass"])
    failed = False
    for name in commands:
        cpu, wall = medians(samples[name])
        ok = True
        line = f"  {name:<26} CPU {cpu * 1000:6.0f} ms ({cpu / base_cpu:4.1f}x python)   wall {wall * 1000:6.0f} ms"
        if name.startswith("flowdoc --"):
            ok = cpu <= CPU_TARGET
            line += f"   target CPU <= {CPU_TARGET * 1000:.0f} ms: {'ok' if ok else 'OVER TARGET'}"
            failed |= not ok
        elif name.startswith("flowdoc verify"):
            ok = wall <= VERIFY_TARGET
            line += f"   target wall <= {VERIFY_TARGET} s: {'ok' if ok else 'OVER TARGET'}"
            failed |= not ok
        print(line)
        if not ok:
            print(f"OVER TARGET: {name}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
