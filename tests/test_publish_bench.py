"""benchmarks/bench_build.py stays runnable (on a few flows; the real run is 1,000)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_build_runs():
    """On a few flows: every build runs, the no-change rebuild rebuilds nothing, the one-flow
    change converts that flow's pages and the index only (the time and memory limits are the
    benchmark's, never a test's: they are set out of reach here)."""
    r = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_build.py"), "--flows", "20", "--max-full", "1000",
         "--max-one", "1000", "--max-mb", "100000"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    full = re.search(r"full build\s+[\d.]+ s .* converted\s+(\d+) rendered\s+(\d+) linked\s+0 ", r.stdout)
    assert full and full.group(1) == full.group(2) and int(full.group(1)) >= 60, r.stdout
    assert re.search(r"no change\s+[\d.]+ s .* converted\s+0 rendered\s+0 linked\s+0 ", r.stdout), r.stdout
    one = re.search(r"one flow changed\s+[\d.]+ s .* converted\s+(\d+) rendered\s+(\d+) linked\s+(\d+) ", r.stdout)
    assert one and one.group(1) == one.group(2) == "4" and int(one.group(3)) == int(full.group(1)) - 4, r.stdout
    assert re.search(r"baseline: Python-Markdown converts the \d+ pages", r.stdout)
    assert re.search(r"no change / full build\s+[\d.]+ \(target <= 0.100\)", r.stdout)
    assert re.search(r"peak memory of the full build \d+ MB", r.stdout)
