"""Check: a flow as a graph — ids, references, reachability, ways out, captures.

Every check reports through the flow's diagnostics with the position of the
offending value. The checks only read the model.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict, deque
from typing import Any

from ..diagnostics import DiagnosticList, quote
from ..model.expr import RESPONSE_PARTS, ExprError, Guard, iter_refs
from ..model.flow import Flow, Transition, latest_versions
from ..model.refs import walk_strings
from .assumptions import check_assumptions
from .polling import check_polls
from .dominators import Dominance


def _near(word: str, options: Any) -> str | None:
    near = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean {quote(near[0])}?" if near else None


class Hints:
    """Did-you-mean hints for one file, within a budget of candidates compared.

    Each hint compares the word with every candidate; a flow with thousands of misspelt
    names against thousands of states would make that quadratic, so once :data:`HINT_BUDGET`
    candidates have been compared the remaining problems are reported without a hint.
    """

    def __init__(self, budget: int | None = None):
        self.budget = HINT_BUDGET if budget is None else budget

    def near(self, word: str, options: Any) -> str | None:
        options = list(options)
        if len(options) > self.budget:
            return None
        self.budget -= len(options)
        return _near(word, options)


HINT_BUDGET = 100_000


class Graph:
    """Edges of the state machine: transitions and failure branches."""

    def __init__(self, flow: Flow):
        self.flow = flow
        # (edge id, from, to, transition id or None for failure edges)
        self.edges: list[tuple[str, str, str, str | None]] = []
        for t in flow.transitions:
            self.edges.append((t.id, t.from_, t.to, t.id))
            for f in t.failures:
                self.edges.append((f"{t.id}/{f.id}", t.from_, f.to or t.from_, None))
        self._dom: tuple[str, tuple[dict[tuple[str, str], int], Dominance]] | None = None
        self.out: dict[str, list[tuple[str, str, str | None]]] = defaultdict(list)
        for eid, a, b, tid in self.edges:
            self.out[a].append((eid, b, tid))

    def reaches_around(self, start: str, target: str, transition: str) -> bool:
        """Whether a path from ``start`` reaches ``target`` without taking ``transition``.

        Asked once per reference, so answered from the dominators of the graph with each
        transition split into a node of its own (a -> [t] -> b): ``target`` is reached around
        ``t`` unless [t] dominates it. O(1) a question after one near-linear build per start.
        A transition id used twice (already an error) is never reported here.
        """
        if self._dom is None or self._dom[0] != start:
            self._dom = (start, self._dominance(start))
        _start, (index, dom) = self._dom
        node, t_node = index.get(("s", target)), index.get(("t", transition))
        if node is None or t_node is None:
            return False
        return dom.reachable(node) and not dom.dominates(t_node, node)

    def _dominance(self, start: str) -> tuple[dict[tuple[str, str], int], Dominance]:
        index: dict[tuple[str, str], int] = {}
        succ: list[list[int]] = []

        def node(key: tuple[str, str]) -> int:
            if key not in index:
                index[key] = len(succ)
                succ.append([])
            return index[key]

        root = node(("s", start))
        twice = {tid for tid, n in Counter(tid for *_e, tid in self.edges if tid is not None).items() if n > 1}
        for _eid, a, b, tid in self.edges:
            if tid is None or tid in twice:
                succ[node(("s", a))].append(node(("s", b)))
            else:
                t = node(("t", tid))
                succ[node(("s", a))].append(t)
                succ[t].append(node(("s", b)))
        for tid in twice:
            index.pop(("t", tid), None)
        return index, Dominance(succ, root)

    def reachable(self, start: str, skip_transition: str | None = None) -> set[str]:
        seen = {start}
        todo = deque([start])
        while todo:
            s = todo.popleft()
            for _eid, b, tid in self.out.get(s, ()):
                if tid is not None and tid == skip_transition:
                    continue
                if b not in seen:
                    seen.add(b)
                    todo.append(b)
        return seen


def check_graph(flow: Flow, diags: DiagnosticList) -> None:
    states = flow.state_map
    tmap = flow.transition_map
    pos = flow.pos
    hints = Hints()

    # ---- duplicate ids
    def dup(kind: str, items: list[tuple[str, tuple]]) -> None:
        first: dict[str, tuple] = {}
        for ident, path in items:
            if ident in first:
                line = (pos(*first[ident]) or (0, 0))[0]
                diags.add("duplicate-id", f"{kind} id '{ident}' is used twice (first at line {line})", pos(*path),
                          help="ids name states, steps and scenarios; each must be unique")
            else:
                first[ident] = path

    dup("state", [(s.id, ("states", i, "id")) for i, s in enumerate(flow.states)])
    scen: list[tuple[str, tuple]] = []
    for i, t in enumerate(flow.transitions):
        scen.append((t.id, ("transitions", i, "id")))
        for j, f in enumerate(t.failures):
            scen.append((f.id, ("transitions", i, "failures", j, "id")))
    dup("transition or failure", scen)
    dup("path", [(p.id, ("paths", i, "id")) for i, p in enumerate(flow.paths)])
    for section in ("generate", "requires"):
        for name in set(getattr(flow, section)) & {"inputs", "steps"}:
            diags.add("reserved-name", f"{quote(name)} is reserved and cannot name an entry of {section}",
                      flow.key_pos(section, name))
    for name in set(flow.generate) & set(flow.requires):
        diags.add("duplicate-id", f"{quote(name)} names both a generated value and a requirement",
                  flow.key_pos("requires", name))

    check_assumptions(flow, diags, hints.near)
    check_polls(flow, diags, hints.near, lambda sid: Graph(flow).reachable(sid))

    # ---- initial / terminal
    initials = [i for i, s in enumerate(flow.states) if s.initial]
    if not initials:
        diags.add("no-initial-state", "no state is marked initial: true", pos("states"),
                  help="mark the state the flow starts in with initial: true")
    for i in initials[1:]:
        diags.add("multiple-initial-states", f"state '{flow.states[i].id}' is a second initial state",
                  pos("states", i, "initial"), help="a flow starts in exactly one state")
    if not any(s.terminal for s in flow.states):
        diags.add("no-terminal-state", "no state is marked terminal: true", pos("states"),
                  help="mark the state where the token is issued with terminal: true")

    # ---- states, actors and failure targets named by transitions
    for i, t in enumerate(flow.transitions):
        for key, sid in (("from", t.from_), ("to", t.to)):
            if sid not in states:
                diags.add("undefined-state", f"transition '{t.id}' {key} undefined state {quote(sid)}",
                          pos("transitions", i, key), help=hints.near(sid, states))
        for actor in (t.sender, t.receiver):
            if actor not in flow.actors:
                diags.add("undefined-actor", f"transition '{t.id}' names undefined actor {quote(actor)}",
                          pos("transitions", i, "by"), help=hints.near(actor, flow.actors))
        if t.from_ in states and states[t.from_].terminal:
            diags.add("terminal-has-exit", f"transition '{t.id}' leaves terminal state '{t.from_}'",
                      pos("transitions", i, "from"),
                      help="a terminal state ends the flow; remove terminal: true or the transition")
        for j, f in enumerate(t.failures):
            if f.to is not None and f.to not in states:
                diags.add("undefined-state", f"failure '{f.id}' leads to undefined state '{f.to}'",
                          pos("transitions", i, "failures", j, "to"), help=hints.near(f.to, states))
            for k, before in enumerate(f.provoke.before):
                if before not in tmap:
                    diags.add("undefined-step", f"failure '{f.id}' runs undefined transition {quote(before)} first",
                              pos("transitions", i, "failures", j, "provoke", "before", k), help=hints.near(before, tmap))

    # ---- parallel groups share their source and target
    groups: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(flow.transitions):
        if t.parallel:
            groups[t.parallel].append(i)
    for g, idx in groups.items():
        first = flow.transitions[idx[0]]
        if len(idx) < 2:
            diags.add("parallel-alone", f"parallel group '{g}' has only transition '{first.id}'",
                      pos("transitions", idx[0], "parallel"), help="a parallel group needs two or more transitions")
        for i in idx[1:]:
            t = flow.transitions[i]
            if (t.from_, t.to) != (first.from_, first.to):
                diags.add("parallel-mismatch",
                          f"transitions of parallel group '{g}' must share from and to ('{first.id}' goes "
                          f"{first.from_} → {first.to})", pos("transitions", i, "parallel"))

    # ---- paths
    for pi, p in enumerate(flow.paths):
        prev: Transition | None = None
        for si, sid in enumerate(p.steps):
            t = tmap.get(sid)
            where = pos("paths", pi, "steps", si)
            if t is None:
                diags.add("undefined-step", f"path '{p.id}' names undefined transition {quote(sid)}", where,
                          help=hints.near(sid, tmap))
                prev = None
                continue
            if prev is None and si == 0 and initials and t.from_ != flow.states[initials[0]].id:
                diags.add("path-broken", f"path '{p.id}' starts with {quote(sid)}, which does not leave the initial state",
                          where)
            elif prev is not None and t.from_ != prev.to and not (t.parallel and t.parallel == prev.parallel):
                diags.add("path-broken", f"path '{p.id}': {quote(sid)} leaves '{t.from_}' but '{prev.id}' ends in "
                          f"'{prev.to}'", where)
            prev = t

    graph = Graph(flow)
    _check_refs(flow, graph, diags, hints)

    if not initials or any(t.from_ not in states or t.to not in states for t in flow.transitions):
        return  # the graph is broken already; reachability would only repeat it
    start = flow.states[initials[0]].id
    reach = graph.reachable(start)
    outgoing = {a for _e, a, _b, tid in graph.edges if tid is not None}
    dead: set[str] = set()
    for i, s in enumerate(flow.states):
        if s.id not in reach:
            diags.add("unreachable-state", f"state '{s.id}' cannot be reached from '{start}'", pos("states", i, "id"),
                      help="add a transition into it, or remove it")
        elif not s.terminal and s.id not in outgoing:
            dead.add(s.id)
            diags.add("dead-end", f"state '{s.id}' is not terminal and no transition leaves it", pos("states", i, "id"),
                      help="add a transition out of it, or mark it terminal: true")
    terminals = {s.id for s in flow.states if s.terminal}
    # states that cannot reach a terminal state: loops with no way out
    rev: dict[str, set[str]] = defaultdict(set)
    for _eid, a, b, _tid in graph.edges:
        rev[b].add(a)
    can_end = set(terminals)
    todo = deque(terminals)
    while todo:
        s = todo.popleft()
        for a in rev.get(s, ()):
            if a not in can_end:
                can_end.add(a)
                todo.append(a)
    for i, s in enumerate(flow.states):
        if s.id in reach and s.id not in can_end and s.id not in dead:
            diags.add("no-way-out", f"from state '{s.id}' no path leads to a terminal state (a loop with no exit)",
                      pos("states", i, "id"), help="add a transition from the loop to a terminal state")


def _check_refs(flow: Flow, graph: Graph, diags: DiagnosticList, hints: Hints) -> None:
    tmap = flow.transition_map
    start = flow.initial_state.id if flow.initial_state else None
    generated = flow.generate

    def check(path: tuple, text: str, owner: Transition | None, allow_steps: bool = True) -> None:
        where = flow.pos(*path)
        try:
            refs = list(iter_refs(text))
        except ExprError as exc:
            diags.add("bad-expression", str(exc), where)
            return
        for ref in refs:
            check_path(ref.path, where, owner, allow_steps)

    def check_path(p: tuple[str, ...], where: Any, owner: Transition | None, allow_steps: bool) -> None:
        root = p[0]
        if root == "inputs":
            if len(p) != 2:
                diags.add("undefined-input", f"{quote('.'.join(p))} must be inputs.NAME", where)
            elif p[1] not in flow.inputs:
                diags.add("undefined-input", f"input {quote(p[1])} is not declared under inputs", where,
                          help=hints.near(p[1], flow.inputs) or f"declare it: inputs: {{{p[1]}: {{description: ...}}}}")
        elif root == "steps":
            if not allow_steps:
                diags.add("bad-reference", f"{quote('.'.join(p))}: only inputs can be used here", where)
                return
            if len(p) < 3:
                diags.add("undefined-capture", f"{quote('.'.join(p))} must be steps.TRANSITION.NAME", where)
                return
            step = tmap.get(p[1])
            if step is None:
                diags.add("undefined-step", f"{quote('.'.join(p))} names undefined transition {quote(p[1])}", where,
                          help=hints.near(p[1], tmap))
                return
            if step.response is None:
                diags.add("undefined-capture", f"transition {quote(p[1])} has no HTTP response to capture from", where)
                return
            name = p[2]
            if name not in RESPONSE_PARTS and name not in step.response.capture:
                diags.add("undefined-capture", f"transition {quote(p[1])} captures no {quote(name)}", where,
                          help=hints.near(name, step.response.capture)
                          or f"add it: capture: {{{name}: body.{name}}} on {quote(p[1])}")
                return
            if owner is not None and step.id != owner.id and start is not None:
                if graph.reaches_around(start, owner.from_, step.id):
                    diags.add("capture-not-produced",
                              f"{quote('.'.join(p))} is used by '{owner.id}', but a path reaches '{owner.id}' "
                              f"without passing '{step.id}'", where,
                              help=f"use a value every path produces, or route all paths through '{step.id}'")
        elif root in flow.requires:
            req = flow.requires[root]
            if len(p) != 2 or p[1] not in req.provides:
                diags.add("undefined-reference", f"{quote('.'.join(p))}: requirement {quote(root)} provides "
                          f"{', '.join(req.provides) or 'nothing'}", where,
                          help=hints.near(p[-1], req.provides))
        elif root in generated:
            gen = generated[root]
            if len(p) > 2 or (len(p) == 2 and p[1] not in gen.parts):
                parts = ", ".join(f"{root}.{x}" for x in gen.parts) or root
                diags.add("undefined-reference", f"{quote('.'.join(p))} is not a part of {quote(root)} (use {parts})", where)
            elif len(p) == 1 and gen.parts:
                diags.add("undefined-reference", f"{quote(root)} has parts: use {', '.join(root + '.' + x for x in gen.parts)}",
                          where)
        else:
            options = ["inputs", "steps", *generated, *flow.requires]
            diags.add("undefined-reference", f"{quote('.'.join(p))} refers to nothing: {quote(root)} is not inputs, steps "
                      "or a generated value", where, help=hints.near(root, options))

    for name, actor in flow.actors.items():
        if actor.base_url:
            check(("actors", name, "base_url"), actor.base_url, None, allow_steps=False)
    for name, gen in flow.generate.items():
        if gen.secret:
            check(("generate", name, "secret"), gen.secret, None, allow_steps=False)
    for i, t in enumerate(flow.transitions):
        base = ("transitions", i)
        for sub in ("request", "response", "wait"):
            for path, text in walk_strings(getattr(t, sub), base + (sub,)):
                check(path, text, t)
        for j, f in enumerate(t.failures):
            for path, text in walk_strings(f.provoke, base + ("failures", j, "provoke")):
                check(path, text, t)
            for path, text in walk_strings(f.response, base + ("failures", j, "response")):
                check(path, text, t)
            for k, name in enumerate(f.provoke.inputs):
                if name not in flow.inputs:
                    diags.add("undefined-input", f"failure '{f.id}' overrides undeclared input {quote(name)}",
                              flow.key_pos(*base, "failures", j, "provoke", "inputs", name), help=hints.near(name, flow.inputs))
        if t.guard is not None and t.guard.expr:
            where = flow.pos(*base, "guard", "expr")
            try:
                g = Guard.parse(t.guard.expr)
            except ExprError as exc:  # pragma: no cover - the model parsed it already
                diags.add("bad-expression", str(exc), where)
                continue
            for p in g.refs():
                check_path(p, where, t, True)


def check_requirements(flow: Flow, name: str, candidates: list[Flow], diags: DiagnosticList) -> None:
    """The flow named by ``requires.NAME`` exists and provides the steps and captures named."""
    req = flow.requires[name]
    hints = Hints()
    if not candidates:
        diags.add("undefined-flow", f"requirement {quote(name)} names flow '{req.flow}', which is not among the flows "
                  "checked nor beside this file", flow.pos("requires", name, "flow"))
        return
    other = latest_versions(candidates)[0]
    for key, src in req.provides.items():
        _steps, step, *rest = src.split(".")
        t = other.transition_map.get(step)
        where = flow.pos("requires", name, "provides", key)
        if t is None or t.response is None:
            diags.add("undefined-step", f"flow '{other.id}' has no HTTP step {quote(step)}", where,
                      help=hints.near(step, other.transition_map))
        elif rest and rest[0] not in RESPONSE_PARTS and rest[0] not in t.response.capture:
            diags.add("undefined-capture", f"step {quote(step)} of flow '{other.id}' captures no {quote(rest[0])}", where,
                      help=hints.near(rest[0], t.response.capture))
