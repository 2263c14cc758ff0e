"""Benchmark: rendering the Markdown pages of 1,000 flows, against validating them alone.

    python benchmarks/bench_render.py                 # 1,000 flows, best of 3
    python benchmarks/bench_render.py --flows 200 --repeat 5 --max-ratio 2

1,000 flow files are generated into a temporary folder by varying the example flows in
flows/ (ids, titles, versions, state and step titles, the order of failure branches), so
every file is different. Two runs over the same files are timed:

  validate          load + validate each file (flowdoc.check.validate_file: YAML with
                    positions, the pydantic model, the graph checks)
  validate+render   the same, then render the flow's Markdown page (three Mermaid diagrams,
                    the tables, Jinja2 templates)

and the ratio validate+render / validate is printed (target: <= 2x). The best of
--repeat runs of each is used; the runs alternate so both see the same machine state.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from flowdoc.check import validate_file  # noqa: E402
from flowdoc.render import render_page  # noqa: E402

EXAMPLES = ["authorization-code-pkce", "client-credentials", "gateway-login", "mfa-step-up", "silent-refresh-rotation"]


def variant(data: dict, i: int) -> dict:
    d = copy.deepcopy(data)
    d["id"] = f"{d['id']}-{i}"
    d["title"] = f"{d['title']} (variant {i})"
    d["version"] = f"{1 + i % 7}.{i % 13}.{i}"
    d["summary"] = f"{d.get('summary', '')} Variant {i}: generated for the render benchmark."
    for s in d["states"]:
        s["title"] = f"{s.get('title') or s['id']} {i}"
    for t in d["transitions"]:
        t["title"] = f"{t['title']} [{i}]"
        if t.get("failures") and i % 2:
            t["failures"] = list(reversed(t["failures"]))
    for c in d.get("changelog", []):
        c["version"] = d["version"] if c is d["changelog"][0] else c["version"]
    return d


def generate(folder: Path, count: int) -> list[Path]:
    bases = [yaml.safe_load((ROOT / "flows" / f"{name}.yaml").read_text("utf-8")) for name in EXAMPLES]
    paths = []
    for i in range(count):
        data = variant(bases[i % len(bases)], i)
        p = folder / f"{data['id']}.yaml"
        p.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        paths.append(p)
    return paths


def run_validate(paths: list[Path]) -> float:
    t0 = time.perf_counter()
    for p in paths:
        flow, diags = validate_file(p)
        if flow is None:
            raise SystemExit(f"{p} is invalid: {[d.message for d in diags.items][:3]}")
    return time.perf_counter() - t0


def run_validate_render(paths: list[Path]) -> tuple[float, int]:
    t0 = time.perf_counter()
    size = 0
    for p in paths:
        flow, _ = validate_file(p)
        size += len(render_page(flow))
    return time.perf_counter() - t0, size


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flows", type=int, default=1000, help="number of flows to generate (default 1000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best counts (default 3)")
    ap.add_argument("--max-ratio", type=float, default=2.0, help="exit 1 when the ratio is above this (default 2, the target)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="flowdoc-bench-") as tmp:
        paths = generate(Path(tmp), args.flows)
        # warm up: imports, template compilation, first-call caches
        run_validate_render(paths[:10])
        v_times, r_times, size = [], [], 0
        for _ in range(args.repeat):
            v_times.append(run_validate(paths))
            t, size = run_validate_render(paths)
            r_times.append(t)
    v, r = min(v_times), min(r_times)
    ratio = r / v
    n = len(paths)
    print(f"flows:            {n} (generated from {len(EXAMPLES)} examples)")
    print(f"validate:         {v:7.3f} s  ({v / n * 1000:6.2f} ms/flow)   best of {args.repeat}")
    print(f"validate+render:  {r:7.3f} s  ({r / n * 1000:6.2f} ms/flow)   best of {args.repeat}")
    print(f"render alone:     {r - v:7.3f} s  ({(r - v) / n * 1000:6.2f} ms/flow)")
    print(f"pages:            {size / 1e6:.1f} MB of Markdown")
    print(f"ratio:            {ratio:.2f}x  (target <= 2x)")
    if ratio > args.max_ratio:
        print(f"OVER TARGET: ratio {ratio:.2f} is above {args.max_ratio}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
