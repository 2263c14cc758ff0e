"""Load + validate 1,000 generated flows vs parsing them with PyYAML's C loader alone.

The C loader is the floor: it only builds Python values. flowdoc also keeps positions,
rejects unsafe and ambiguous YAML, models with pydantic and runs the graph checks.
Target: ratio <= 3x. Run: python benchmarks/bench_validate.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flowgen import generate_flows  # noqa: E402

from flowdoc.check import validate_file  # noqa: E402


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    """Exit status 1 when the ratio is over its target (3x)."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        files = generate_flows(Path(tmp), n)

        def floor() -> None:
            for f in files:
                yaml.load(f.read_bytes(), Loader=yaml.CSafeLoader)

        def flowdoc_validate() -> None:
            for f in files:
                flow, diags = validate_file(f)
                assert flow is not None, diags.items

        base = best_of(floor)
        ours = best_of(flowdoc_validate)
    print(f"flows: {n}")
    print(f"PyYAML CSafeLoader (floor): {base:.3f} s  ({base / n * 1000:.2f} ms/flow)")
    print(f"flowdoc load + validate:    {ours:.3f} s  ({ours / n * 1000:.2f} ms/flow)")
    print(f"ratio: {ours / base:.2f}x (target <= 3x)")
    if ours / base > 3:
        print(f"OVER TARGET: ratio {ours / base:.2f} is above 3", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
