"""benchmarks/bench_render.py runs (on a few flows): generated flows are valid, pages render."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_render_smoke():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_render.py"), "--flows", "15", "--repeat", "1",
         "--max-ratio", "1000"],  # the ratio limit is the benchmark's, never a test's
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "flows:            15" in proc.stdout
    assert "ratio:" in proc.stdout


def test_bench_linear_smoke():
    """benchmarks/bench_linear.py on small chains: the generated flows are valid, every stage
    is timed and the table printed (the ratio limit is not asserted here: speed is measured
    by the benchmark, never by a test)."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_linear.py"), "--sizes", "50", "200", "--repeat", "1",
         "--max-ratio", "1000", "--max-seconds", "1000"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for stage in ("validate", "lint", "mermaid-sequence", "mermaid-state", "mermaid-flowchart", "dot-sequence",
                  "dot-state", "dot-flowchart", "markdown"):
        assert f"\n{stage} " in proc.stdout, proc.stdout
    assert "N=200" in proc.stdout and "ratio" in proc.stdout


def test_bench_linear_chain_of_16000_states_fits_the_loader():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from bench_linear import chain_yaml
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    from flowdoc.load import read_flow_text

    text = chain_yaml(16_000)
    assert len(text.encode()) < 4 * 1024 * 1024
    flow, diags = read_flow_text(text, "chain.yaml")
    assert flow is not None and not diags.errors, [d.message for d in diags.errors][:3]
    assert len(flow.states) == 16_001
