"""benchmarks/bench_render.py runs (on a few flows): generated flows are valid, pages render."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_render_smoke():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_render.py"), "--flows", "15", "--repeat", "1"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "flows:            15" in proc.stdout
    assert "ratio:" in proc.stdout
