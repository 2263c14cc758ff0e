"""benchmarks/bench_flowstages.py stays runnable (on a few flows; the real run is 1,000)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_flowstages_runs():
    """Every run happens and reads what it must (the ratio limit is the benchmark's, never a test's:
    --max-ratio is set out of reach here)."""
    r = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_flowstages.py"), "12", "--max-ratio", "1000"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"full build .* checked\s+12\s+rendered\s+12\s+built\s+\d+", r.stdout), r.stdout
    assert re.search(r"no change .* checked\s+0\s+rendered\s+0\s+built\s+0", r.stdout), r.stdout
    assert re.search(r"one flow changed .* checked\s+1\s+rendered\s+1\s+built\s+[1-9]", r.stdout), r.stdout
    assert re.search(r"one flow broken .* failed as it must: \S+flow-0006\.yaml:\d+:\d+", r.stdout), r.stdout
    assert re.search(r"one flow changed / full build = [\d.]+% \(target <= ", r.stdout), r.stdout
