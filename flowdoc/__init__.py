"""flowdoc: document, draw and prove authentication flows from one YAML state machine.

The public library surface is small; the CLI is a thin shell over it::

    import flowdoc
    flow = flowdoc.load_flow("flows/client-credentials.yaml")   # raises FlowError
    diags = flowdoc.validate(["flows/"])                          # list of Diagnostic
    diags = flowdoc.lint(["flows/"])
    flows = flowdoc.FlowSet.from_paths(["flows/"])                # the catalog: by_id, latest(), get()
    flowdoc.Version.parse("1.2.0") < flowdoc.Version.parse("1.10.0")

``import flowdoc`` does no work: each name is imported from its module when it is first used
(PEP 562), so that ``flowdoc --version`` and ``--help`` do not build the pydantic models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .api import lint, load_flow, validate
    from .catalog import FlowSet
    from .diagnostics import Diagnostic, FlowError
    from .model import Flow
    from .model.version import Version

__all__ = ["__version__", "Diagnostic", "Flow", "FlowError", "FlowSet", "Version", "load_flow", "validate", "lint"]

#: public name -> the module that defines it
_LAZY = {
    "Diagnostic": ".diagnostics",
    "Flow": ".model",
    "FlowError": ".diagnostics",
    "FlowSet": ".catalog",
    "Version": ".model.version",
    "load_flow": ".api",
    "validate": ".api",
    "lint": ".api",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowdoc' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
