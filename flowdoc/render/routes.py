"""Where the other routes of a flow leave its happy path: the alternatives a sequence diagram draws
as ``alt``/``else`` at that point (``opt`` after the last step), not after the happy path.

An alternative is a run of steps off the happy path that starts in a state the happy path passes
through: each stretch of a named path (``paths`` after the first) that leaves it, then each chain
of the remaining transitions (file order) from such a state. Steps reachable only from states
no alternative reaches stay ``rest``, drawn after everything else. One pass over the paths and
one over the transitions, with a cursor per state (linear in the flow's size).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model.flow import Flow, Transition
from .labels import happy_path


@dataclass
class Branch:
    """Steps that leave the happy path at state ``at``."""

    at: str
    label: str
    steps: list[Transition]


@dataclass
class Routes:
    happy: list[Transition]
    #: state → the alternatives leaving the happy path there (in the order found)
    branches: dict[str, list[Branch]] = field(default_factory=dict)
    rest: list[Transition] = field(default_factory=list)

    @property
    def end(self) -> str | None:
        """The state the happy path ends in."""
        return self.happy[-1].to if self.happy else None


def happy_label(flow: Flow, t: Transition) -> str:
    """The ``alt`` label of the happy path at a branch point: its guard, the happy path's title, its title."""
    if t.guard is not None:
        return t.guard.text
    if flow.paths and flow.paths[0].title:
        return flow.paths[0].title
    return t.title


def _words(text: str) -> str:
    return text.replace("_", " ").replace("-", " ")


def find_routes(flow: Flow) -> Routes:
    happy = happy_path(flow)
    routes = Routes(happy)
    if happy:
        states = {t.from_ for t in happy} | {happy[-1].to}
    else:
        start = flow.initial_state
        states = {start.id} if start is not None else set()
    used = {t.id for t in happy}
    tm = flow.transition_map
    for path in flow.paths[1:]:
        run: list[Transition] = []
        for sid in [*path.steps, None]:
            t = tm.get(sid) if sid is not None else None
            if t is not None and t.id not in used:
                run.append(t)
                continue
            if run and run[0].from_ in states:
                routes.branches.setdefault(run[0].from_, []).append(Branch(run[0].from_, path.title or _words(path.id), run))
                used.update(u.id for u in run)
            run = []
    _chains(flow, states, used, routes)
    routes.rest = [t for t in flow.transitions if t.id not in used]
    return routes


def _chains(flow: Flow, states: set[str], used: set[str], routes: Routes) -> None:
    """Chains of the remaining transitions, each from a state of the happy path until it comes back
    to one (or stops)."""
    outgoing: dict[str, list[Transition]] = {}
    for t in flow.transitions:
        if t.id not in used:
            outgoing.setdefault(t.from_, []).append(t)
    cursor: dict[str, int] = {}

    def next_from(state: str) -> Transition | None:
        cands, i = outgoing.get(state, []), cursor.get(state, 0)
        while i < len(cands) and cands[i].id in used:
            i += 1
        cursor[state] = i
        return cands[i] if i < len(cands) else None

    for t in flow.transitions:
        if t.id in used or t.from_ not in states:
            continue
        chain, cur = [t], t.to
        used.add(t.id)
        while cur not in states:
            nxt = next_from(cur)
            if nxt is None:
                break
            chain.append(nxt)
            used.add(nxt.id)
            cur = nxt.to
        label = t.guard.text if t.guard is not None else t.title
        routes.branches.setdefault(t.from_, []).append(Branch(t.from_, label, chain))
