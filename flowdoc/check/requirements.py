"""Check: a flow's requirement (``requires.NAME``) is met by the flow it names: that flow exists and
provides the steps and captures named. The catalog calls it with the candidates it found."""

from __future__ import annotations

from ..diagnostics import DiagnosticList, quote
from ..model.expr import RESPONSE_PARTS
from ..model.flow import Flow, latest_versions
from .graph import Hints


def check_requirements(flow: Flow, name: str, candidates: list[Flow], diags: DiagnosticList) -> None:
    """The flow named by ``requires.NAME`` exists and provides the steps and captures named."""
    req = flow.requires[name]
    hints = Hints()
    if not candidates:
        diags.add("undefined-flow", f"requirement {quote(name)} names flow '{req.flow}', which is not among the flows "
                  "checked, beside this file nor in the configured flow folders (flow_folders)", flow.pos("requires", name, "flow"))
        return
    other = latest_versions(candidates)[0]
    for key, src in req.provides.items():
        _steps, step, *rest = src.split(".")
        t = other.transition_map.get(step)
        here = ("requires", name, "provides", key)  # looked up for a problem only
        if t is None or t.response is None:
            diags.add("undefined-step", f"flow '{other.id}' has no HTTP step {quote(step)}", flow.pos(*here),
                      help=hints.near(step, other.transition_map))
        elif rest and rest[0] not in RESPONSE_PARTS and rest[0] not in t.response.capture:
            diags.add("undefined-capture", f"step {quote(step)} of flow '{other.id}' captures no {quote(rest[0])}",
                      flow.pos(*here), help=hints.near(rest[0], t.response.capture))
