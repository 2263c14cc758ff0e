"""What test modules share: the project's paths, the CLI runners, git repositories, and the
helpers of the site tests. Test modules import from here (and from :mod:`tests.flowkit` for flows,
:mod:`tests.support` for servers), never from one another."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

from flowdoc.cli import cli

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"  # the example flows
SITE_CONFIG = ROOT / "site" / "mkdocs.yml"
MERMAID_JS = ROOT / "tests" / "node" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"


# ------------------------------------------------------------------ the CLI


def example_ids() -> list[str]:
    """The ids of the example flows in flows/, read from the files (sorted, each once)."""
    ids = {yaml.safe_load(p.read_text(encoding="utf-8"))["id"] for p in FLOWS.glob("*.yaml")}
    return sorted(ids)


def run(*args: object, **kw: Any) -> Result:
    """``flowdoc ARGS`` in this process (click's runner; stdout and stderr apart). Exceptions are
    not caught: a traceback fails the test."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, **kw)


def run_module(module: str, *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None,
               timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m MODULE ARGS`` in a process of its own, as a user runs it: no colour, none of
    the test run's ``FLOWDOC_*`` variables, this checkout's flowdoc."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDOC_")}
    e.update({"NO_COLOR": "1", "PYTHONPATH": str(ROOT)})
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=e, capture_output=True,
                          text=True, timeout=timeout)


def run_flowdoc(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m flowdoc ARGS`` in a process of its own (see :func:`run_module`)."""
    return run_module("flowdoc", *args, cwd=cwd, env=env, timeout=timeout)


def run_verify(args: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None,
               timeout: float = 150) -> subprocess.CompletedProcess[str]:
    """``python -m flowdoc verify ARGS`` in a process of its own (see :func:`run_flowdoc`)."""
    return run_flowdoc("verify", *args, cwd=cwd, env=env, timeout=timeout)


# ------------------------------------------------------------------ git

GIT_IDENTITY = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` (a fixed identity, no signing, branch ``main``); its stdout, stripped. A
    failure fails the test."""
    opts = ["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "init.defaultBranch=main"]
    out = subprocess.run(["git", *opts, *args], cwd=repo, env={**os.environ, **GIT_IDENTITY}, check=True,
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


def init_repo(path: Path) -> Path:
    """An empty git repository at ``path`` (created)."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    return path


def commit_all(repo: Path, message: str) -> str:
    """Commit everything in the work tree; the new commit's id."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


# ------------------------------------------------------------------ sites


def copy_flows(dest: Path) -> Path:
    """The example flows, copied (tests change them)."""
    shutil.copytree(FLOWS, dest)
    return dest


def leftovers(out: Path) -> list[str]:
    """Temporary or old outputs left beside the output folder."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path, with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def http_get(url: str) -> tuple[int, str]:
    """(status, body) of a GET on a local server; an HTTP error status is an answer too."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def line_of(path: Path, needle: str) -> int:
    """The number (from 1) of the first line of a text file that contains ``needle`` (it must be there)."""
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


def change(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in a text file with ``new`` (it must be there)."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
