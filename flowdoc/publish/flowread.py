"""Reading the flow files a build must read (:func:`read_files`): each is read and checked
(:func:`~flowdoc.check.validate_file`) and its record made (:mod:`.flowrecs`); a flow whose pages
read nothing of another file (no requirement, no replacement by another flow) gets its pages made at once, so its
model is dropped at once: the build holds the models of the few flows whose pages need others.

Many files (:data:`POOL_MIN` or more, with two CPUs or more idle by the load average) are read in
worker processes started by ``fork``: each holds one flow at a time and sends back its record, its
pages (text) or its problems. Not where fork is not available or unsafe (another thread running, as
in ``flowdoc serve``), nor on a busy machine: the files are then read in this process, one at a time.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..check import validate_file
from ..diagnostics import DiagnosticList
from ..model.flow import Flow
from .layout import FlowVersions

__all__ = ["POOL_MIN", "Read", "Render", "read_files", "standalone"]

#: fewer files than this are read in this process
POOL_MIN = 64
#: files per task sent to a worker
CHUNK = 8
#: at most this many worker processes
MAX_WORKERS = 4

#: the pages of one flow id from its versions (full models): (src_uri, Markdown) each
Render = Callable[[FlowVersions], list[tuple[str, str]]]
#: what a record is made with: the flow and the sha256 of its file
Recorder = Callable[[Flow, str], dict]


@dataclass
class Read:
    """One file read: its record (None: not a valid flow, see ``diagnostics``), and its model or pages."""

    name: str
    record: dict | None
    diagnostics: DiagnosticList | None = None
    #: the model, kept when its pages were not made (read in this process only)
    flow: Flow | None = None
    #: its pages, made at once (:func:`standalone`)
    pages: list[tuple[str, str]] | None = None


def standalone(record: dict) -> bool:
    """The pages of this flow read nothing of another file (when its id has no other file): it
    requires no flow, and is not deprecated in favour of another one."""
    return not record["requires"] and record["replaced_by"] in (None, record["id"])


def read_one(path: Path, file_hash: str, record: Recorder, render: Render | None) -> Read:
    flow, diags = validate_file(path)
    if flow is None:
        return Read(str(path), None, diags)
    rec = record(flow, file_hash)
    if render is not None and standalone(rec):
        return Read(str(path), rec, pages=render(FlowVersions(flow.id, [flow])))
    return Read(str(path), rec, flow=flow)


def read_files(jobs: list[tuple[Path, str]], record: Recorder, render: Render | None,
               advance: Callable[[int], None] = lambda n: None) -> list[Read]:
    """Each (file, sha256) read (see the module), in the order given; ``advance(n)``: n more files read."""
    workers = _workers(len(jobs))
    out: list[Read] = []
    if workers <= 1:
        for path, h in jobs:
            out.append(read_one(path, h, record, render))
            advance(1)
        return out
    global _TASK
    _TASK = (record, render)
    chunks = [jobs[i : i + CHUNK] for i in range(0, len(jobs), CHUNK)]
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for part in pool.imap(_work, chunks):
                out += part
                advance(len(part))
    finally:
        _TASK = None
    return out


_TASK: tuple[Recorder, Render | None] | None = None


def _work(chunk: list[tuple[Path, str]]) -> list[Read]:
    """In a worker: read a few files; models are not sent back (the build reads them again if needed)."""
    assert _TASK is not None
    record, render = _TASK
    out = []
    for path, h in chunk:
        r = read_one(path, h, record, render)
        r.flow = None
        out.append(r)
    return out


def _workers(n: int) -> int:
    if n < POOL_MIN or threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(_free_cpus(), MAX_WORKERS, n // CHUNK))


def _free_cpus() -> int:
    """The CPUs this process may use that are idle (by the load average): workers pay only on
    those; on a busy machine they cost more than they give (forks, pages sent back)."""
    cpus: Any = getattr(os, "sched_getaffinity", None)
    count = len(cpus(0)) if cpus is not None else (os.cpu_count() or 1)
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    return int(count - load + 0.5)
