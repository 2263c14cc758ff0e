"""Benchmark: validate, lint and every render view of N-state chain flows stay linear in N.

    python benchmarks/bench_linear.py                       # N = 1,000, 4,000, 16,000
    python benchmarks/bench_linear.py --sizes 500 2000 8000 --repeat 3

For each N a chain flow is written to a temporary file: N states, N-1 steps: every 10th an HTTP
request (a parameter referencing ``${inputs.client_id}``) with a response and a failure
branch (to one shared failure state), the others actions; a guard on every 7th. (16,000
states stay under the loader's limits: 4 MiB and 200,000 values.) Timed, best of --repeat:

  validate            flowdoc.check.validate_file (YAML, model, graph checks)
  lint                flowdoc.check.lint_file
  mermaid-sequence, mermaid-state, mermaid-flowchart, dot-sequence, dot-state,
  dot-flowchart       render_diagram (the DOT text; running Graphviz is not timed)
  markdown            render_page (tables, three Mermaid diagrams, templates)

It prints the seconds per N and, per stage, the time per state at the largest N divided by
the time per state at the smallest (1.0 = linear; quadratic would be 16 at 16x the states).
Each run is CPU time, starts after a garbage collection with the CPU caches flushed, and the
rendered flow is frozen out of the cyclic garbage collector (see measure()).
Exit status 1 when a ratio is over --max-ratio (default 2) or a render view at the largest
N takes --max-seconds (default 5) or more; 0 otherwise.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from flowdoc.check import lint_file, validate_file  # noqa: E402
from flowdoc.render import render_diagram, render_page  # noqa: E402

VIEWS = [
    ("mermaid-sequence", "sequence", "mermaid"),
    ("mermaid-state", "state", "mermaid"),
    ("mermaid-flowchart", "flowchart", "mermaid"),
    ("dot-sequence", "sequence", "dot"),
    ("dot-state", "state", "dot"),
    ("dot-flowchart", "flowchart", "dot"),
]
RENDER_STAGES = [name for name, _, _ in VIEWS] + ["markdown"]


def _step(i: int) -> dict:
    step: dict = {
        "id": f"t{i}",
        "from": f"s{i}",
        "to": f"s{i + 1}",
        "by": "app -> as" if i % 2 == 0 else "as -> app",
        "title": f"Send value {i}",
    }
    if i % 10 == 0:  # an HTTP step, with a failure branch
        step["request"] = {"method": "POST", "path": f"/v/{i}", "form": {"client_id": "${inputs.client_id}"}}
        step["response"] = {"status": 200}
        step["failures"] = [
            {"id": f"f{i}", "when": f"{i} rejected", "response": {"status": 400}, "to": "failed", "remedy": "Retry."}
        ]
    else:
        step["action"] = f"Check value {i}"
    if i % 7 == 0:
        step["guard"] = f"value {i} valid"
    return step


def chain_flow(n: int) -> dict:
    """An n-state chain (plus one failure state) with HTTP steps, guards and failure branches."""
    states = [{"id": f"s{i}", "title": f"At {i}"} for i in range(n)]
    states[0]["initial"] = True
    states[-1].update(terminal=True, handoff="Continue with the authorization guide.")
    states.append({"id": "failed", "title": "Rejected", "terminal": True, "failure": True})
    return {
        "id": f"chain-{n}",
        "title": f"A chain of {n} states",
        "summary": "Generated for the linear-time benchmark.",
        "version": "1.0.0",
        "updated": "2026-11-20",
        "changelog": [{"version": "1.0.0", "notes": ["First version."]}],
        "actors": {
            "app": {"name": "App", "kind": "client"},
            "as": {"name": "Authorization Server", "kind": "authorization-server", "base_url": "${inputs.issuer}"},
        },
        "inputs": {"issuer": {"description": "Issuer"}, "client_id": {"description": "Client"}},
        "states": states,
        "transitions": [_step(i) for i in range(n - 1)],
    }


def chain_yaml(n: int) -> str:
    """The flow as YAML with one line per state and per step."""
    data = chain_flow(n)
    head = {k: v for k, v in data.items() if k not in ("states", "transitions")}
    out = [yaml.safe_dump(head, sort_keys=False)]
    for key in ("states", "transitions"):
        out.append(f"{key}:\n")
        for item in data[key]:
            out.append("- " + yaml.safe_dump(item, sort_keys=False, default_flow_style=True, width=1 << 20))
    return "".join(out)


#: Larger than the CPU's caches: walked before each timed run, so every run starts with the
#: flow out of the caches, whatever N. (Otherwise a 1,000-state flow stays in the cache from
#: one repeat to the next and a 16,000-state one does not: a ratio of memory, not of work.)
_CACHE_FLUSH = bytearray(96 << 20)


def _flush_caches() -> int:
    _CACHE_FLUSH[::64] = bytes(len(range(0, len(_CACHE_FLUSH), 64)))
    return _CACHE_FLUSH[-1]


def best(fn: Callable[[], object], repeat: int) -> float:
    """The least CPU time of ``repeat`` runs (CPU time: other processes on the machine do not
    count), each after a garbage collection and with the CPU caches flushed."""
    times = []
    for _ in range(repeat):
        gc.collect()
        _flush_caches()
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def measure(n: int, folder: Path, repeat: int) -> dict[str, float]:
    path = folder / f"chain-{n}.yaml"
    path.write_text(chain_yaml(n), encoding="utf-8")
    flow, diags = validate_file(path)
    if flow is None or diags.errors:
        raise SystemExit(f"the generated {n}-state flow is not valid: {[d.message for d in diags.errors][:3]}")
    out = {"validate": best(lambda: validate_file(path), repeat), "lint": best(lambda: lint_file(path), repeat)}
    # The flow being rendered is long-lived: freeze it out of the cyclic garbage collector, whose
    # full passes (each time the heap grew by a quarter) would otherwise be charged to the
    # renderers, more so the larger the flow is next to the interpreter's own objects.
    gc.collect()
    gc.freeze()
    try:
        for name, view, fmt in VIEWS:
            out[name] = best(lambda v=view, f=fmt: render_diagram(flow, v, f), repeat)
        out["markdown"] = best(lambda: render_page(flow), repeat)
    finally:
        gc.unfreeze()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 16000])
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs at the largest N (2 more below)")
    ap.add_argument("--max-ratio", type=float, default=2.0)
    ap.add_argument("--max-seconds", type=float, default=5.0)
    args = ap.parse_args(argv)
    sizes = sorted(args.sizes)
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="flowdoc-bench-linear-") as tmp:
        for n in sizes:
            results[n] = measure(n, Path(tmp), args.repeat if n == sizes[-1] else args.repeat + 2)
    stages = list(results[sizes[0]])
    print(f"{'stage':<18}" + "".join(f"{f'N={n:,}':>12}" for n in sizes) + f"{'ratio':>8}")
    failed = []
    lo, hi = sizes[0], sizes[-1]
    for stage in stages:
        per_lo = results[lo][stage] / lo
        per_hi = results[hi][stage] / hi
        ratio = per_hi / per_lo if per_lo > 0 else float("inf")
        row = "".join(f"{results[n][stage]:>11.3f}s" for n in sizes)
        flag = ""
        if len(sizes) > 1 and ratio > args.max_ratio:
            failed.append(f"{stage}: time per state grew {ratio:.2f}x from N={lo:,} to N={hi:,}")
            flag = "  <-- not linear"
        if stage in RENDER_STAGES and results[hi][stage] >= args.max_seconds:
            failed.append(f"{stage}: {results[hi][stage]:.2f} s at N={hi:,} (limit {args.max_seconds:g} s)")
            flag += "  <-- too slow"
        print(f"{stage:<18}{row}{ratio:>8.2f}{flag}")
    print(f"\nratio = (time per state at N={hi:,}) / (time per state at N={lo:,}); target <= {args.max_ratio:g}")
    for f in failed:
        print(f"FAIL {f}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
