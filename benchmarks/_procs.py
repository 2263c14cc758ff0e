"""Helpers for the whole-process benchmarks: run a command, measure its CPU and wall time."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of an installed flowdoc: this worktree first on the path, bytecode cached.

    pip compiles an installed package's modules; a test machine with PYTHONDONTWRITEBYTECODE would
    compile every module on every start, so the cache goes to a folder of its own outside the tree."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "flowdoc-bench-pycache")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra or {})
    return env


def run(cmd: list[str], env: dict[str, str], expect: int = 0) -> tuple[float, float, str]:
    """(CPU seconds user+system, wall seconds, stdout+stderr) of one whole process."""
    cpu, wall, _peak, text = run_usage(cmd, env, expect)
    return cpu, wall, text


def run_usage(cmd: list[str], env: dict[str, str], expect: int = 0) -> tuple[float, float, int, str]:
    """(CPU seconds, wall seconds, peak resident memory in bytes, stdout+stderr) of one whole process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read()  # type: ignore[union-attr]
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = out.decode("utf-8", "replace")
    if proc.returncode != expect:
        raise SystemExit(f"{' '.join(cmd)} exited with {proc.returncode} (expected {expect}):\n{text[-2000:]}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss * 1024, text


def medians(samples: list[tuple[float, float, str]]) -> tuple[float, float]:
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


PY = sys.executable
