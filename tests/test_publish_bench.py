"""benchmarks/bench_build.py stays runnable (on a few flows; the real run is 1,000)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_build_runs():
    """On a few flows: every stage runs and the no-change rebuild rebuilds nothing (the ratio limit
    is the benchmark's, never a test's: --max-ratio is set out of reach here)."""
    r = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_build.py"), "20", "--max-ratio", "1000"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"full build\s+[\d.]+ s\s+built\s+\d+, reused\s+0, MkDocs ran", r.stdout), r.stdout
    assert re.search(r"no-change rebuild\s+[\d.]+ s\s+built\s+0, reused\s+\d+, MkDocs skipped", r.stdout)
    assert re.search(r"one flow changed\s+[\d.]+ s\s+built\s+[1-9]\d?, ", r.stdout)
    assert re.search(r"no-change rebuild / full build = [\d.]+% \(target <= 10%\)", r.stdout)
