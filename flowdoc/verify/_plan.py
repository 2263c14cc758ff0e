"""Scenario planning: which flows run (latest version per id), and their scenarios.

A flow yields its happy path, one scenario per further declared path, and one per failure
branch: the route to the branch's transition (the happy path up to it, or a declared path,
or the shortest route from the initial state), then the provoked request. A failure of a step
a client cannot send (internal, or an action) is not planned: it is unobservable. With
``--probe``, one more scenario per documented parameter of each step (see ``_probe``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..catalog import FlowSet
from ..model.flow import Failure, Flow, Requirement, Transition, latest_versions
from ..model.refs import input_names, walk_refs
from ._statements import follow_route

HAPPY = "happy-path"


class PlanError(ValueError):
    """A selection that cannot be planned (unknown scenario, missing required flow)."""


@dataclass
class Scenario:
    id: str
    name: str
    kind: str  # happy | path | failure
    title: str
    flow: Flow
    flow_key: str
    route: list[Transition]
    target: Transition | None = None
    failure: Failure | None = None
    requirements: list[tuple[str, Requirement, Flow]] = field(default_factory=list)
    omit: str | None = None  # a probe: the documented parameter left out of the target's request

    @property
    def follow_route(self) -> list[Transition]:
        """After a failure: the actions, then the step a client sends, that show the flow is in the
        state the branch leads to ([] when no such step leaves it)."""
        if self.failure is None or self.target is None:
            return []
        return follow_route(self.flow, self.failure.to or self.target.from_)

    @property
    def follow_up(self) -> Transition | None:
        """The step a client sends from the state a failure leads to (the end of ``follow_route``)."""
        route = self.follow_route
        return route[-1] if route else None

    @property
    def through(self) -> list[Transition]:
        """The later steps a failure runs on through until its response shows."""
        if self.failure is None:
            return []
        tm = self.flow.transition_map
        return [tm[s] for s in self.failure.through if s in tm]


def _route_to(flow: Flow, target: Transition, happy: list[Transition] | None = None) -> list[Transition] | None:
    """``happy``: the flow's happy path, when the caller has it already."""
    happy = flow.happy_path() if happy is None else happy
    ids = [t.id for t in happy]
    if target.id in ids:
        i = ids.index(target.id)
        if target.parallel:  # start of the parallel group
            while i > 0 and happy[i - 1].parallel == target.parallel:
                i -= 1
        return happy[:i]
    tm = flow.transition_map
    for p in flow.paths:
        if target.id in p.steps:
            return [tm[s] for s in p.steps[: p.steps.index(target.id)] if s in tm]
    start = flow.initial_state
    if start is None:
        return None
    # shortest route over transitions that do not lead into a failure state
    prev: dict[str, tuple[str, Transition] | None] = {start.id: None}
    todo = deque([start.id])
    while todo:
        s = todo.popleft()
        if s == target.from_:
            route: list[Transition] = []
            while prev[s] is not None:
                s0, t = prev[s]  # type: ignore[misc]
                route.append(t)
                s = s0
            return list(reversed(route))
        for t in flow.transitions:
            if t.from_ == s and t.to not in prev and not flow.state_map.get(t.to, start).failure:
                prev[t.to] = (s, t)
                todo.append(t.to)
    return None


def flow_key(flow: Flow, versioned: bool) -> str:
    return f"{flow.id}@{flow.version}" if versioned and flow.version else flow.id


def requirements_of(flow: Flow, catalog: FlowSet,
                    seen: tuple[str, ...] = ()) -> list[tuple[str, Requirement, Flow]]:
    """Required flows in the order they run (nested requirements first); each is the newest of its id
    among the flows given, else beside the requiring file (:meth:`FlowSet.required`)."""
    out: list[tuple[str, Requirement, Flow]] = []
    for name, req in flow.requires.items():
        if req.flow in seen or req.flow == flow.id:
            raise PlanError(f"flow '{flow.id}' requires '{req.flow}' in a cycle")
        cands = catalog.required(flow, name)
        if not cands:
            raise PlanError(f"flow '{flow.id}' requires flow '{req.flow}', which was not found "
                            "among the flows given, beside the file, nor in the configured flow folders "
                            "([tool.flowdoc] flows and flow_folders)")
        other = latest_versions(cands)[0]
        out.extend(requirements_of(other, catalog, (*seen, flow.id)))
        out.append((name, req, other))
    return out


def plan_flow(flow: Flow, key: str, catalog: FlowSet) -> list[Scenario]:
    reqs = requirements_of(flow, catalog)
    happy = flow.happy_path()
    first_path = flow.paths[0] if flow.paths else None
    out = [Scenario(f"{key}/{first_path.id if first_path else HAPPY}", first_path.id if first_path else HAPPY,
                    "happy", (first_path.title if first_path and first_path.title else "Happy path"),
                    flow, key, happy, requirements=reqs)]
    tm = flow.transition_map
    for p in flow.paths[1:]:
        out.append(Scenario(f"{key}/{p.id}", p.id, "path", p.title or p.id, flow, key,
                            [tm[s] for s in p.steps if s in tm], requirements=reqs))
    for t in flow.transitions:
        if t.internal or not t.is_http:
            continue  # unobservable: a client cannot send this step
        for f in t.failures:
            route = _route_to(flow, t, happy)
            scn = Scenario(f"{key}/{f.id}", f.id, "failure", f.title or f.when, flow, key, route or [], t, f, reqs)
            if route is None:
                scn.route = []
                scn.kind = "unreachable"
            out.append(scn)
    return out


def route_to(flow: Flow, target: Transition) -> list[Transition] | None:
    """The steps that lead to ``target`` (the happy path up to it, a declared path, or the shortest route)."""
    return _route_to(flow, target)


def select(scenarios: list[Scenario], wanted: Iterable[str]) -> list[Scenario]:
    """Filter by ``--scenario``: a full id (flow/name), a bare scenario name, or a flow id."""
    wanted = [w.strip() for w in wanted if w.strip()]
    if not wanted:
        return scenarios
    out: list[Scenario] = []
    for w in wanted:
        hits = [s for s in scenarios if w in (s.id, s.name, s.flow_key, s.flow.id)
                or (s.id.split("/", 1)[0].split("@")[0] + "/" + s.name) == w]
        if not hits:
            raise PlanError(f"no scenario '{w}'; run with --list to see the scenario ids")
        out.extend(h for h in hits if h not in out)
    return [s for s in scenarios if s in out]


class RunInputs:
    """The inputs one run needs: those its steps reference, and the lifetimes on the server under test
    that lifecycle tokens name by ``ttl_input``.

    As :func:`~flowdoc.model.refs.inputs_used` with transitions finds them (the requests, responses
    and waits of the steps a client sends, the failure provoked, the ``base_url`` of their receivers,
    the secrets of the generators), each step, failure and flow walked once per run, not once per
    scenario that takes it."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, int], tuple[object, frozenset[str]]] = {}

    def _names(self, kind: str, owner: object, parts: list[Any]) -> frozenset[str]:
        hit = self._seen.get((kind, id(owner)))
        if hit is None or hit[0] is not owner:  # the owner is kept, so its id is not reused meanwhile
            hit = (owner, frozenset(input_names(r.path for _, r in walk_refs(parts))))
            self._seen[(kind, id(owner))] = hit
        return hit[1]

    def __call__(self, flow: Flow, transitions: Iterable[Transition], failure: Failure | None) -> set[str]:
        names: set[str] = set()
        receivers: set[str] = set()
        for t in transitions:
            if t.internal or not t.is_http:
                continue
            receivers.add(t.receiver)
            names |= self._names("step", t, [t.request, t.response, t.wait])
        if failure is not None:
            names |= self._names("failure", failure, [failure.provoke, failure.response])
        for a in sorted(receivers):
            if a in flow.actors:
                names |= self._names("actor", flow.actors[a], [flow.actors[a].base_url])
        names |= self._names("generators", flow, [g.secret for g in flow.generate.values()])
        names &= set(flow.inputs)
        tokens = flow.lifecycle.tokens.values() if flow.lifecycle else ()
        names.update(tok.ttl_input for tok in tokens if tok.ttl_input and tok.ttl_input in flow.inputs)
        return names


def run_inputs(flow: Flow, transitions: Iterable[Transition], failure: Failure | None) -> set[str]:
    """The inputs one run needs (see :class:`RunInputs`)."""
    return RunInputs()(flow, transitions, failure)
