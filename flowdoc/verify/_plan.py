"""Scenario planning: which flows run (latest version per id), and their scenarios.

A flow yields its happy path, one scenario per further declared path, and one per failure
branch: the route to the branch's transition (the happy path up to it, or a declared path,
or the shortest route from the initial state), then the provoked request. A failure of a step
a client cannot send (internal, or an action) is not planned: it is unobservable. With
``--probe``, one more scenario per documented parameter of each step (see ``_probe``).
"""

from __future__ import annotations

import os
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from pydantic import BaseModel

from ..model.expr import ExprError, iter_refs
from ..model.flow import Failure, Flow, Requirement, Transition, latest_versions, version_key  # noqa: F401
from ._auth import CLIENT_SECRET_METHODS
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


def requirements_of(flow: Flow, index: dict[str, list[Flow]],
                    seen: tuple[str, ...] = ()) -> list[tuple[str, Requirement, Flow]]:
    """Required flows in the order they run (nested requirements first)."""
    out: list[tuple[str, Requirement, Flow]] = []
    for name, req in flow.requires.items():
        if req.flow in seen or req.flow == flow.id:
            raise PlanError(f"flow '{flow.id}' requires '{req.flow}' in a cycle")
        cands = index.get(req.flow)
        if not cands:
            raise PlanError(f"flow '{flow.id}' requires flow '{req.flow}', which was not found "
                            "among the flows given nor beside the file")
        other = latest_versions(cands)[0]
        out.extend(requirements_of(other, index, (*seen, flow.id)))
        out.append((name, req, other))
    return out


def plan_flow(flow: Flow, key: str, index: dict[str, list[Flow]]) -> list[Scenario]:
    reqs = requirements_of(flow, index)
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
            route = _route_to(flow, t)
            scn = Scenario(f"{key}/{f.id}", f.id, "failure", f.title or f.when, flow, key, route or [], t, f, reqs)
            if route is None:
                scn.route = []
                scn.kind = "unreachable"
            out.append(scn)
    return out


def route_to(flow: Flow, target: Transition) -> list[Transition] | None:
    """The steps that lead to ``target`` (the happy path up to it, a declared path, or the shortest route)."""
    return _route_to(flow, target)


def build_index(flows: Iterable[Flow]) -> dict[str, list[Flow]]:
    """Every flow by id, plus the valid flows beside each file (for requirements)."""
    from ..check import validate_file
    from ..load import discover

    index: dict[str, list[Flow]] = {}
    known: set[str] = set()
    folders: list[Path] = []
    for f in flows:
        index.setdefault(f.id, []).append(f)
        if f.file:
            known.add(os.path.abspath(f.file))
            folder = Path(f.file).parent
            if folder not in folders:
                folders.append(folder)
    missing = {r.flow for f in flows for r in f.requires.values()} - set(index)
    if missing:
        for folder in folders:
            for file in discover([folder])[0]:
                if os.path.abspath(file) in known:
                    continue
                other, _ = validate_file(file)
                if other is not None:
                    known.add(os.path.abspath(file))
                    index.setdefault(other.id, []).append(other)
    return index


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


# ----------------------------------------------------------- referenced inputs

_INPUT = re.compile(r"\$\{\s*inputs\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}")


def _strings(obj) -> Iterable[str]:
    if isinstance(obj, BaseModel):
        names = set(obj.model_fields_set)
        if getattr(obj, "auth", None) in CLIENT_SECRET_METHODS and hasattr(obj, "client_id"):
            names |= {"client_id", "client_secret"}  # their defaults name inputs
        for name in names:
            yield from _strings(getattr(obj, name, None))
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _strings(v)
    elif isinstance(obj, str):
        yield obj


def referenced_inputs(flow: Flow, transitions: Iterable[Transition], failure: Failure | None) -> set[str]:
    names: set[str] = set()

    def scan(obj) -> None:
        for s in _strings(obj):
            if "${" not in s:
                continue
            try:
                for ref in iter_refs(s):
                    if ref.path[0] == "inputs" and len(ref.path) == 2:
                        names.add(ref.path[1])
            except ExprError:
                pass

    receivers: set[str] = set()
    for t in transitions:
        if t.internal or not t.is_http:
            continue
        receivers.add(t.receiver)
        scan(t.request)
        scan(t.response)
        scan(t.wait)
    if failure is not None:
        scan(failure.provoke)
        scan(failure.response)
    for a in receivers:
        actor = flow.actors.get(a)
        if actor and actor.base_url:
            scan(actor.base_url)
    for g in flow.generate.values():
        if g.secret:
            scan(g.secret)
    names.update(tok.ttl_input for tok in (flow.lifecycle.tokens.values() if flow.lifecycle else ()) if tok.ttl_input)
    return {n for n in names if n in flow.inputs}
