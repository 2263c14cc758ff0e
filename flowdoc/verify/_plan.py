"""Scenario planning: which flows run (latest version per id), and their scenarios.

A flow yields its happy path, one scenario per further declared path, and one per failure
branch: the route to the branch's transition (the happy path up to it, or a declared path,
or the shortest route from the initial state), then the provoked request.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterable

from ..catalog import FlowSet
from ..model.flow import Failure, Flow, Requirement, Transition, latest_versions

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

    @property
    def follow_up(self) -> Transition | None:
        """After a failure: the step that shows the flow is in the state the branch leads to."""
        if self.failure is None or self.target is None:
            return None
        state_id = self.failure.to or self.target.from_
        state = self.flow.state_map.get(state_id)
        if state is None or state.terminal:
            return None
        happy = self.flow.happy_path()
        cand = [t for t in happy if t.from_ == state_id] or [
            t for t in self.flow.transitions
            if t.from_ == state_id and not self.flow.state_map.get(t.to, state).failure
        ]
        t = cand[0] if cand else None
        if t is None or t.parallel or not t.is_http or t.internal:
            return None
        return t


def _route_to(flow: Flow, target: Transition) -> list[Transition] | None:
    happy = flow.happy_path()
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
                            "among the flows given nor beside the file")
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
        for f in t.failures:
            route = _route_to(flow, t)
            scn = Scenario(f"{key}/{f.id}", f.id, "failure", f.title or f.when, flow, key, route or [], t, f, reqs)
            if route is None:
                scn.route = []
                scn.kind = "unreachable"
            out.append(scn)
    return out


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
