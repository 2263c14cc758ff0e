"""The library functions :mod:`flowdoc` offers at its top level (loaded when first used)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from .catalog import FlowSet
from .check import validate_file
from .config import LintConfig
from .diagnostics import Diagnostic, FlowError
from .model import Flow


def load_flow(path: str | os.PathLike[str]) -> Flow:
    """Load and validate one flow file; raise :class:`FlowError` with every problem found."""
    flow, diags = validate_file(path)
    if flow is None:
        raise FlowError(diags.errors or diags.items)
    return flow


def validate(paths: Iterable[str | os.PathLike[str]]) -> list[Diagnostic]:
    """Validate flow files and folders; return every diagnostic."""
    return FlowSet.from_paths(paths).diagnostics


def lint(paths: Iterable[str | os.PathLike[str]], config: LintConfig | None = None) -> list[Diagnostic]:
    """Validate and lint flow files and folders; return every diagnostic."""
    return FlowSet.from_paths(paths, lint=True, lint_config=config).diagnostics
