"""``flowdoc verify --probe``: is each documented parameter required, as the page implies?

For every step a client sends on the flow's routes, one scenario per documented parameter (query,
form and JSON keys, documented headers, the key parameters of a request built from an earlier
URL, and the client credentials: ``Authorization`` for Basic and Bearer, ``client_id`` and
``client_secret`` in the form), minus those the request lists as ``optional``: the route to the
step, then the step's request with that one parameter left out. A rejection is an answer with a
status of 400 or more, or an error code anywhere (JSON body, WWW-Authenticate, Location, error
page). Anything else means the server does without it: "documented as required; the server
answered 200 without it", a warning, or a conformance failure with ``--strict``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model.flow import Flow, RequestPatch, Requirement, Transition
from ._host import RunHost
from ._plan import Scenario, route_to
from ._result import CheckFailure

if TYPE_CHECKING:  # the HTTP machinery loads only when a run starts (see flowdoc.verify)
    from ._http import Outgoing
    from ._values import FlowState

_CREDENTIALS = {
    "client_secret_basic": ["Authorization"],
    "bearer": ["Authorization"],
    "client_secret_post": ["client_id", "client_secret"],
}


def probed_params(t: Transition) -> list[str]:
    """The parameters of a step's request the probe leaves out, one at a time."""
    req = t.request
    if req is None:
        return []
    names: list[str] = list(req.query) + list(req.form or {})
    if isinstance(req.json_body, dict):
        names += [str(k) for k in req.json_body]
    names += list(req.headers)
    if req.url and req.key_params:
        names += [k.split("=", 1)[0].split(":", 1)[0].strip() for k in req.key_params]
    names += _CREDENTIALS.get(req.auth, [])
    optional = {o.lower() for o in [*req.optional, *req.omit]}
    out: list[str] = []
    for n in names:
        if n.lower() not in optional and n.lower() not in (o.lower() for o in out):
            out.append(n)
    return out


def plan_probes(flow: Flow, key: str, reqs: list[tuple[str, Requirement, Flow]]) -> list[Scenario]:
    out: list[Scenario] = []
    for t in flow.transitions:
        if t.internal or t.request is None or t.parallel:
            continue
        route = route_to(flow, t)
        if route is None:
            continue
        for name in probed_params(t):
            sid = f"probe:{t.id}:{name}"
            out.append(Scenario(f"{key}/{sid}", sid, "probe", f"'{t.id}' without {name}", flow, key,
                                route, t, requirements=reqs, omit=name))
    return out


class ProbeStep(RunHost):
    """The probe part of :class:`~flowdoc.verify._runner.ScenarioRun` (a mixin)."""

    def _probe(self, state: FlowState, t: Transition, name: str) -> None:
        self._current = t.id
        self._check_guard(state, t, "probe")
        out: Outgoing = self._prepare(state, t, RequestPatch(omit=[name]))
        role = f"probe (without {name})"
        req, got = self._send(t, out, role)
        if got.status >= 400 or got.error_codes():
            return  # rejected, as a required parameter should be
        message = f"'{name}' is documented as required; the server answered {got.status} without it"
        if self.ctx.strict:
            raise self._fail(t, role, message, [CheckFailure(f"without {name}", "a rejection (4xx or an error code)",
                                                             f"HTTP {got.status}")], req, got)
        self.result.warnings.append(self.ctx.redactor.redact(f"step '{t.id}': {message}"))
