"""Check: a modelled flow against the graph rules (validate) and the best practices (lint)."""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from ..config import LintConfig
from ..diagnostics import Diagnostic, DiagnosticList
from ..load import discover, read_flow
from ..model.flow import Flow
from .claims import check_claims
from .graph import check_graph, check_requirements
from .lint import RULES, run_lint

__all__ = ["RULES", "CheckResult", "check_graph", "run_lint", "validate_file", "lint_file", "check_paths"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while one file is read and checked.

    Reading a flow allocates hundreds of thousands of objects and creates no cycles worth
    collecting; with the collector on, its full passes over the growing heap make a 16,000-state
    flow cost 1.5x more per state than a 1,000-state one. Memory stays bounded by the 4 MiB
    file limit; the collector is on again (if it was) as soon as the file is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def validate_file(path: str | os.PathLike[str]) -> tuple[Flow | None, DiagnosticList]:
    """Load, model, graph-check and claim-check one file. The flow is None when it has errors.

    (Older revisions read from git for diffs and published versions get the graph checks only:
    a rule about what a page can prove never makes history unreadable.)"""
    with gc_paused():
        flow, diags = read_flow(path)
        if flow is not None:
            check_graph(flow, diags)
            check_claims(flow, diags)
            if diags.errors:
                flow = None
    return flow, diags


def lint_file(path: str | os.PathLike[str], config: LintConfig | None = None) -> tuple[Flow | None, DiagnosticList]:
    """Validate, then lint a valid flow (without cross-flow checks; see :func:`check_paths`)."""
    flow, diags = validate_file(path)
    if flow is not None:
        run_lint(flow, diags, config)
    return flow, diags


@dataclass
class CheckResult:
    files: list[Path] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    invalid: bool = False  # a file could not be read or is not a valid flow

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


def check_paths(
    paths: Iterable[str | os.PathLike[str]], *, lint: bool = False, config: LintConfig | None = None
) -> CheckResult:
    """Validate (and optionally lint) files and folders, including checks across flows."""
    files, missing = discover(paths)
    res = CheckResult(files=files)
    res.diagnostics += [Diagnostic(m, None, None, "not-found", "no such file or folder") for m in missing]
    res.invalid = bool(missing)
    lists: dict[str, DiagnosticList] = {}
    for f in files:
        flow, diags = validate_file(f)
        lists[str(f)] = diags
        if flow is None:
            res.invalid = True
        else:
            res.flows.append(flow)
    _cross_flow(res, lists)
    for flow in list(res.flows):
        d = lists[flow.file]
        if d.errors:
            res.flows.remove(flow)
            res.invalid = True
        elif lint:
            with gc_paused():
                run_lint(flow, d, config)
    for d in lists.values():
        res.diagnostics += d.items
    return res


def _cross_flow(res: CheckResult, lists: dict[str, DiagnosticList]) -> None:
    """Requirements name flows that exist; one id + version is defined once."""
    index: dict[str, list[Flow]] = {}
    for flow in res.flows:
        index.setdefault(flow.id, []).append(flow)
    seen: dict[tuple[str, str | None], Flow] = {}
    for flow in res.flows:
        key = (flow.id, flow.version)
        if key in seen:
            lists[flow.file].add(
                "duplicate-flow",
                f"flow '{flow.id}' version {flow.version} is also defined in {seen[key].file}",
                flow.pos("id"),
                help="bump the version, or remove one of the files",
            )
        else:
            seen[key] = flow
    loaded: set[Path] = set()  # each folder is read once, however many requirements miss
    for flow in res.flows:
        for name, req in flow.requires.items():
            folder = Path(flow.file).parent
            if req.flow not in index and folder not in loaded:
                loaded.add(folder)
                _load_siblings(folder, index)
            check_requirements(flow, name, index.get(req.flow, []), lists[flow.file])


def _load_siblings(folder: Path, index: dict[str, list[Flow]]) -> None:
    known = {f.file for fl in index.values() for f in fl}
    for f in discover([folder])[0]:
        if str(f) in known:
            continue
        flow, _ = validate_file(f)
        if flow is not None:
            index.setdefault(flow.id, []).append(flow)
