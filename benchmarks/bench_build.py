"""flowdoc build: a full build of 1,000 generated flows, then a rebuild with no change.

Target: the no-change rebuild takes at most 10% of the full build. Also shown, for
information: a rebuild after one flow changed (one flow's pages re-rendered; MkDocs then
runs on the whole site, as it re-renders every page's HTML on each build).

When nothing changed and the output is there, flowdoc build does not run MkDocs at all
(MkDocs has no incremental build that keeps navigation and search right); the rebuild
hashes the flow files, the templates and the MkDocs project and compares them with the
cache.

Run: python benchmarks/bench_build.py [N] [--max-ratio R]; exit status 1 when the ratio is over
R (default 0.10, the target).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from flowgen import generate_flows  # noqa: E402

from flowdoc.publish import BuildSettings, build_site  # noqa: E402

LOCAL_MERMAID = ROOT / "tests" / "node" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"


def timed(settings: BuildSettings):
    t = time.perf_counter()
    result = build_site(settings)
    return time.perf_counter() - t, result


def show(label: str, seconds: float, result) -> None:
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items())
    print(
        f"{label:<24} {seconds:8.2f} s   built {result.pages_built:5d}, reused {result.pages_reused:5d}, "
        f"MkDocs {'ran' if result.mkdocs_ran else 'skipped'}   ({stages})"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("flows", nargs="?", type=int, default=1000, help="number of flows to generate (default 1000)")
    ap.add_argument("--max-ratio", type=float, default=0.10, help="exit 1 above this ratio (default 0.10)")
    args = ap.parse_args(argv)
    n = args.flows
    with tempfile.TemporaryDirectory(prefix="flowdoc-bench-") as tmp:
        tmp = Path(tmp)
        files = generate_flows(tmp / "flows", n)
        settings = BuildSettings(
            flows_dir=tmp / "flows",
            out_dir=tmp / "out" / "site",
            config_file=ROOT / "site" / "mkdocs.yml",
            mermaid_js=str(LOCAL_MERMAID) if LOCAL_MERMAID.is_file() else None,
        )
        print(f"{n} flows, {sum(f.stat().st_size for f in files) / 1e6:.1f} MB of YAML")
        full, r_full = timed(settings)
        show("full build", full, r_full)
        again, r_again = timed(settings)
        show("no-change rebuild", again, r_again)
        files[0].write_text(files[0].read_text(encoding="utf-8").replace("title: ", "title: Changed, ", 1))
        one, r_one = timed(settings)
        show("one flow changed", one, r_one)
        ratio = again / full
        print(f"no-change rebuild / full build = {ratio:.1%} (target <= 10%)")
        if ratio > args.max_ratio:
            print(f"OVER TARGET: {ratio:.1%} is above {args.max_ratio:.0%}", file=sys.stderr)
        shutil.rmtree(tmp / "out", ignore_errors=True)
        assert r_again.pages_built == 0 and not r_again.mkdocs_ran, "the no-change rebuild rebuilt something"
        return 0 if ratio <= args.max_ratio else 1


if __name__ == "__main__":
    raise SystemExit(main())
