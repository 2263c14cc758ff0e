"""Check: a modelled flow against the graph rules (validate) and the best practices (lint).

One file at a time; the checks across flows (duplicates, requirements) are the catalog's
(:class:`flowdoc.FlowSet`)."""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from typing import Iterator

from ..diagnostics import DiagnosticList
from ..load import read_flow, read_flow_text
from ..model.flow import Flow
from .claims import check_claims
from .graph import check_graph
from .lint import RULES, LintConfig, check_suppressions, run_lint

__all__ = ["RULES", "check_graph", "gc_paused", "run_lint", "validate_file", "validate_text", "lint_file"]


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
            check_suppressions(flow, diags)
            if diags.errors:
                flow = None
    return flow, diags


def validate_text(text: bytes | str, file: str = "<string>") -> tuple[Flow | None, DiagnosticList]:
    """Load, model and graph-check one flow from its text (``file`` names it in diagnostics).

    No claim checks: texts are older revisions read from git (see :func:`validate_file`), scaffolds
    and imported skeletons, whose files ``flowdoc validate`` then checks in full."""
    with gc_paused():
        flow, diags = read_flow_text(text, file)
        if flow is not None:
            check_graph(flow, diags)
            if diags.errors:
                flow = None
    return flow, diags


def lint_file(path: str | os.PathLike[str], config: LintConfig | None = None) -> tuple[Flow | None, DiagnosticList]:
    """Validate, then lint a valid flow (without cross-flow checks; see :class:`flowdoc.FlowSet`)."""
    flow, diags = validate_file(path)
    if flow is not None:
        run_lint(flow, diags, config)
    return flow, diags
