"""flowdoc: document, draw and prove authentication flows from one YAML state machine.

The public library surface is small; the CLI is a thin shell over it::

    import flowdoc
    flow = flowdoc.load_flow("flows/client-credentials.yaml")   # raises FlowError
    diags = flowdoc.validate(["flows/"])                          # list of Diagnostic
    diags = flowdoc.lint(["flows/"])
    flows = flowdoc.FlowSet.from_paths(["flows/"])                # the catalog: by_id, latest(), get()
    flowdoc.Version.parse("1.2.0") < flowdoc.Version.parse("1.10.0")
"""

from __future__ import annotations

import os
from typing import Iterable

from ._version import __version__
from .catalog import FlowSet
from .check import validate_file
from .config import LintConfig
from .diagnostics import Diagnostic, FlowError
from .model import Flow
from .model.version import Version

__all__ = ["__version__", "Diagnostic", "Flow", "FlowError", "FlowSet", "Version", "load_flow", "validate", "lint"]


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
