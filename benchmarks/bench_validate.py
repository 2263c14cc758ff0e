"""``flowdoc validate`` of 1,000 generated flows vs parsing the same files with PyYAML's C loader.

The C loader is the floor: it only builds Python values. flowdoc also keeps positions (read again
from the text for a diagnostic), rejects unsafe and ambiguous YAML, models with pydantic and runs the
graph and claim checks. Both are whole processes (``python3 -c`` a loop of ``yaml.load(...,
CSafeLoader)`` against ``python3 -m flowdoc validate DIR``), interleaved rounds, medians.

Targets: CPU time (user + system: what the load of a shared machine does not change) <= 1.5x the
floor's, and peak memory <= 100 MB. Wall times are shown too. Exits 1 over a target.
Run: python benchmarks/bench_validate.py [N] [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _procs import PY, bench_env, load, run_usage
from flowgen import generate_flows

RATIO_TARGET = 1.5
MEMORY_TARGET = 100 * 1024 * 1024

FLOOR = """
import sys, pathlib, yaml
for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.yaml')):
    yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)
"""


def main() -> int:
    """Exit status 1 when the CPU ratio is over its target (1.5x) or peak memory over 100 MB."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    env = bench_env()
    with tempfile.TemporaryDirectory(prefix="flowdoc-validate-") as tmp:
        files = generate_flows(Path(tmp), n)
        size = sum(f.stat().st_size for f in files)
        cmds = {"CSafeLoader (floor)": [PY, "-c", FLOOR, tmp], "flowdoc validate": [PY, "-m", "flowdoc", "validate", tmp]}
        for cmd in cmds.values():
            run_usage(cmd, env)  # warm up: bytecode, page cache
        samples: dict[str, list] = {name: [] for name in cmds}
        for _ in range(rounds):
            for name, cmd in cmds.items():
                samples[name].append(run_usage(cmd, env))
    print(f"{n} flows, {size / 1e6:.1f} MB of YAML; {rounds} interleaved rounds, medians; {load()}")
    med = {name: [statistics.median(s[i] for s in got) for i in range(3)] for name, got in samples.items()}
    for name, (cpu, wall, peak) in med.items():
        print(f"  {name:<20} CPU {cpu:6.2f} s   wall {wall:6.2f} s   peak memory {peak / 1e6:6.1f} MB")
    (base_cpu, base_wall, _), (cpu, wall, peak) = med["CSafeLoader (floor)"], med["flowdoc validate"]
    ratio = cpu / base_cpu
    ok = ratio <= RATIO_TARGET and peak <= MEMORY_TARGET
    print(f"  ratio CPU {ratio:.2f}x (wall {wall / base_wall:.2f}x); target <= {RATIO_TARGET}x and "
          f"<= {MEMORY_TARGET / 1024 / 1024:.0f} MB: {'ok' if ok else 'OVER TARGET'}")
    if not ok:
        print(f"OVER TARGET: ratio {ratio:.2f} (target {RATIO_TARGET}), peak {peak / 1e6:.1f} MB", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
