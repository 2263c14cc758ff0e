"""Run code that once hung (regex backtracking, deep recursion) in a child Python with a
generous timeout: a regression fails the test, naming the case, instead of hanging the suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_guarded(code: str, timeout: float = 60.0) -> str:
    """Run ``code`` in a fresh interpreter (the worktree importable); return its stdout.

    The code should print a line naming each case before it runs it: on a timeout the test
    fails with the last one.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        proc = subprocess.run([sys.executable, "-"], input=code, capture_output=True, text=True, timeout=timeout,
                              cwd=ROOT, env=env)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        last = out.strip().splitlines()[-1] if out.strip() else "(before the first case)"
        pytest.fail(f"still running after {timeout:.0f} s (hang guard) in: {last}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout
