"""flowdoc build's flow stages (discover, check, render, stage) on N generated flows: a full build,
a rebuild with no change, and rebuilds after one flow changed (retitled) and after one flow was
broken (the build must fail, naming FILE:LINE:COL, reading that one file).

The MkDocs stage is not run (it is timed by bench_build.py): the output is declared current.
Shown per run: wall time, CPU time (this process and its worker processes), the stage timings of
BuildResult.timings and the counters (files checked, flows rendered, pages built).

Target: the one-flow rebuild's flow stages take at most 5% of the full build's (and well under 1 s
at 1,000 flows). Run: python benchmarks/bench_flowstages.py [N] [--max-ratio R] [--serial];
exit status 1 when the ratio is over R.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from flowgen import generate_flows  # noqa: E402

from flowdoc.publish import BuildSettings, PublishError, build_site, flowread  # noqa: E402
from flowdoc.publish import site as site_module  # noqa: E402

LOCAL_MERMAID = ROOT / "tests" / "node" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"


def cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run(label: str, settings: BuildSettings) -> float:
    c, t = cpu(), time.perf_counter()
    try:
        r = build_site(settings)
    except PublishError as exc:
        wall = time.perf_counter() - t
        where = exc.diagnostics[0].location if exc.diagnostics else exc.message
        print(f"{label:22s} {wall:6.2f} s  cpu {cpu() - c:6.2f} s  failed as it must: {where}")
        return wall
    wall = time.perf_counter() - t
    stages = "  ".join(f"{k} {v:.2f}" for k, v in r.timings.items())
    print(f"{label:22s} {wall:6.2f} s  cpu {cpu() - c:6.2f} s  checked {r.flows_checked:5d}  rendered "
          f"{r.flows_rendered:5d}  built {r.pages_built:5d}  [{stages}]")
    return wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("flows", nargs="?", type=int, default=1000)
    ap.add_argument("--max-ratio", type=float, default=0.05)
    ap.add_argument("--serial", action="store_true", help="read every file in this process (no worker processes)")
    args = ap.parse_args()
    if args.serial:
        flowread.POOL_MIN = sys.maxsize
    site_module._output_current = lambda job, manifest, key: True  # the MkDocs stage is bench_build.py's
    with tempfile.TemporaryDirectory(prefix="flowdoc-bench-") as tmp:
        base = Path(tmp)
        flows = base / "flows"
        generate_flows(flows, args.flows)
        (base / "site").mkdir()
        settings = BuildSettings(flows_dir=flows, out_dir=base / "site", config_file=ROOT / "site" / "mkdocs.yml",
                                 mermaid_js=str(LOCAL_MERMAID), cache_dir=base / "cache")
        full = run("full build", settings)
        run("no change", settings)
        f = sorted(flows.glob("*.yaml"))[args.flows // 2]
        text = f.read_text(encoding="utf-8")
        f.write_text(text.replace("title: Copy", "title: Retitled copy", 1), encoding="utf-8")
        one = run("one flow changed", settings)
        f.write_text(text.replace("\nstates:\n", "\nstates: 3\nstatez:\n", 1), encoding="utf-8")
        run("one flow broken", settings)
        shutil.rmtree(flows)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"peak RSS {peak} MB (this process; workers {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024} MB)")
    ratio = one / full
    print(f"one flow changed / full build = {ratio:.1%} (target <= {args.max_ratio:.0%})")
    return 0 if ratio <= args.max_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
