"""Check: a flow as a graph — ids, references, reachability, ways out, captures.

Every check reports through the flow's diagnostics with the position of the
offending value. The checks only read the model.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from typing import Any, Callable

from ..diagnostics import DiagnosticList, quote
from ..model.expr import RESPONSE_PARTS, ExprError, Guard, iter_refs
from ..model.flow import Flow, Transition
from ..model.refs import walk_strings
from .assumptions import check_assumptions
from .polling import check_polls
from .dominators import Dominance

Path = tuple[Any, ...]  # a value's place in the flow file: its position is looked up for a problem only


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
#: up to this many edges, whether a path avoids a transition is answered by a search (see Graph.reaches_around)
SMALL_GRAPH = 64


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
        self._once: set[str] | None = None  # the transition ids used once
        self._around: dict[tuple[str, str], set[str]] = {}  # (start, transition) -> states reached around it
        self.out: dict[str, list[tuple[str, str, str | None]]] = defaultdict(list)
        for eid, a, b, tid in self.edges:
            self.out[a].append((eid, b, tid))

    def reaches_around(self, start: str, target: str, transition: str) -> bool:
        """Whether a path from ``start`` reaches ``target`` without taking ``transition``.

        Asked once per reference, so answered from the dominators of the graph with each
        transition split into a node of its own (a -> [t] -> b): ``target`` is reached around
        ``t`` unless [t] dominates it. O(1) a question after one near-linear build per start.
        A transition id used twice (already an error) is never reported here.

        A graph of at most :data:`SMALL_GRAPH` edges is searched instead (each question once): a
        search of so few edges costs less than the dominators' build.
        """
        if len(self.edges) <= SMALL_GRAPH:
            return self._search_around(start, target, transition)
        if self._dom is None or self._dom[0] != start:
            self._dom = (start, self._dominance(start))
        _start, (index, dom) = self._dom
        node, t_node = index.get(("s", target)), index.get(("t", transition))
        if node is None or t_node is None:
            return False
        return dom.reachable(node) and not dom.dominates(t_node, node)

    def _search_around(self, start: str, target: str, transition: str) -> bool:
        """:meth:`reaches_around` by a search of the graph without ``transition``'s edge."""
        if self._once is None:
            self._once = {tid for tid, n in Counter(tid for *_e, tid in self.edges if tid is not None).items() if n == 1}
        if transition not in self._once:
            return False
        key = (start, transition)
        reach = self._around.get(key)
        if reach is None:
            reach = self._around[key] = self.reachable(start, transition)
        return target in reach

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


@dataclass
class GraphContext:
    """What every graph check reads: the flow, where to report, the hint budget, the edges."""

    flow: Flow
    diags: DiagnosticList
    hints: Hints
    graph: Graph
    initials: list[int]

    @property
    def start(self) -> str | None:
        """The initial state's id, when there is one."""
        return self.flow.states[self.initials[0]].id if self.initials else None


GraphCheck = Callable[[GraphContext], None]

#: The graph checks in the order they report; a check returning early leaves the next ones to run.
GRAPH_CHECKS: list[GraphCheck] = []


def graph_check(fn: GraphCheck) -> GraphCheck:
    GRAPH_CHECKS.append(fn)
    return fn


def check_graph(flow: Flow, diags: DiagnosticList) -> None:
    """Run every graph check of :data:`GRAPH_CHECKS` on ``flow``, in order."""
    ctx = GraphContext(flow, diags, Hints(), Graph(flow), [i for i, s in enumerate(flow.states) if s.initial])
    for check in GRAPH_CHECKS:
        check(ctx)


def _report_duplicates(ctx: GraphContext, kind: str, items: list[tuple[str, tuple]]) -> None:
    first: dict[str, tuple] = {}
    for ident, path in items:
        if ident in first:
            line = (ctx.flow.pos(*first[ident]) or (0, 0))[0]
            ctx.diags.add("duplicate-id", f"{kind} id '{ident}' is used twice (first at line {line})",
                          ctx.flow.pos(*path), help="ids name states, steps and scenarios; each must be unique")
        else:
            first[ident] = path


@graph_check
def duplicate_ids(ctx: GraphContext) -> None:
    flow = ctx.flow
    _report_duplicates(ctx, "state", [(s.id, ("states", i, "id")) for i, s in enumerate(flow.states)])
    scen: list[tuple[str, tuple]] = []
    for i, t in enumerate(flow.transitions):
        scen.append((t.id, ("transitions", i, "id")))
        for j, f in enumerate(t.failures):
            scen.append((f.id, ("transitions", i, "failures", j, "id")))
    _report_duplicates(ctx, "transition or failure", scen)
    _report_duplicates(ctx, "path", [(p.id, ("paths", i, "id")) for i, p in enumerate(flow.paths)])


@graph_check
def reserved_names(ctx: GraphContext) -> None:
    flow = ctx.flow
    for section in ("generate", "requires"):
        for name in set(getattr(flow, section)) & {"inputs", "steps"}:
            ctx.diags.add("reserved-name", f"{quote(name)} is reserved and cannot name an entry of {section}",
                          flow.key_pos(section, name))
    for name in set(flow.generate) & set(flow.requires):
        ctx.diags.add("duplicate-id", f"{quote(name)} names both a generated value and a requirement",
                      flow.key_pos("requires", name))


@graph_check
def assumptions(ctx: GraphContext) -> None:
    """The behaviours the flow assumes are listed once, and every name of one is listed."""
    check_assumptions(ctx.flow, ctx.diags, ctx.hints.near)


@graph_check
def polls(ctx: GraphContext) -> None:
    """A polled request starts after an earlier step; no intermediate answer is documented as an outcome."""
    check_polls(ctx.flow, ctx.diags, ctx.hints.near, ctx.graph.reachable)


@graph_check
def initial_and_terminal(ctx: GraphContext) -> None:
    flow, diags = ctx.flow, ctx.diags
    if not ctx.initials:
        diags.add("no-initial-state", "no state is marked initial: true", flow.pos("states"),
                  help="mark the state the flow starts in with initial: true")
    for i in ctx.initials[1:]:
        diags.add("multiple-initial-states", f"state '{flow.states[i].id}' is a second initial state",
                  flow.pos("states", i, "initial"), help="a flow starts in exactly one state")
    if not any(s.terminal for s in flow.states):
        diags.add("no-terminal-state", "no state is marked terminal: true", flow.pos("states"),
                  help="mark the state where the token is issued with terminal: true")


def _transition_names(ctx: GraphContext, i: int, t: Transition) -> None:
    """The states and actors one transition names exist; it does not leave a terminal state."""
    flow, diags, hints, states = ctx.flow, ctx.diags, ctx.hints, ctx.flow.state_map
    for key, sid in (("from", t.from_), ("to", t.to)):
        if sid not in states:
            diags.add("undefined-state", f"transition '{t.id}' {key} undefined state {quote(sid)}",
                      flow.pos("transitions", i, key), help=hints.near(sid, states))
    for actor in (t.sender, t.receiver):
        if actor not in flow.actors:
            diags.add("undefined-actor", f"transition '{t.id}' names undefined actor {quote(actor)}",
                      flow.pos("transitions", i, "by"), help=hints.near(actor, flow.actors))
    if t.from_ in states and states[t.from_].terminal:
        diags.add("terminal-has-exit", f"transition '{t.id}' leaves terminal state '{t.from_}'",
                  flow.pos("transitions", i, "from"),
                  help="a terminal state ends the flow; remove terminal: true or the transition")


def _failure_names(ctx: GraphContext, i: int, t: Transition) -> None:
    """The states and transitions the failures of one transition name exist."""
    flow, diags, hints = ctx.flow, ctx.diags, ctx.hints
    states, tmap = flow.state_map, flow.transition_map
    for j, f in enumerate(t.failures):
        if f.to is not None and f.to not in states:
            diags.add("undefined-state", f"failure '{f.id}' leads to undefined state '{f.to}'",
                      flow.pos("transitions", i, "failures", j, "to"), help=hints.near(f.to, states))
        for k, before in enumerate(f.provoke.before):
            if before not in tmap:
                diags.add("undefined-step", f"failure '{f.id}' runs undefined transition {quote(before)} first",
                          flow.pos("transitions", i, "failures", j, "provoke", "before", k),
                          help=hints.near(before, tmap))


@graph_check
def transition_names(ctx: GraphContext) -> None:
    """States, actors and failure targets named by transitions exist."""
    for i, t in enumerate(ctx.flow.transitions):
        _transition_names(ctx, i, t)
        _failure_names(ctx, i, t)


@graph_check
def parallel_groups(ctx: GraphContext) -> None:
    """The transitions of a parallel group share their source and target."""
    flow, diags = ctx.flow, ctx.diags
    groups: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(flow.transitions):
        if t.parallel:
            groups[t.parallel].append(i)
    for g, idx in groups.items():
        first = flow.transitions[idx[0]]
        if len(idx) < 2:
            diags.add("parallel-alone", f"parallel group '{g}' has only transition '{first.id}'",
                      flow.pos("transitions", idx[0], "parallel"),
                      help="a parallel group needs two or more transitions")
        for i in idx[1:]:
            t = flow.transitions[i]
            if (t.from_, t.to) != (first.from_, first.to):
                diags.add("parallel-mismatch",
                          f"transitions of parallel group '{g}' must share from and to ('{first.id}' goes "
                          f"{first.from_} → {first.to})", flow.pos("transitions", i, "parallel"))


@graph_check
def path_steps(ctx: GraphContext) -> None:
    """Each path names transitions that exist and follow one another from the initial state."""
    flow, diags, tmap = ctx.flow, ctx.diags, ctx.flow.transition_map
    for pi, p in enumerate(flow.paths):
        prev: Transition | None = None
        for si, sid in enumerate(p.steps):
            t = tmap.get(sid)
            where = ("paths", pi, "steps", si)  # looked up for a problem only
            if t is None:
                diags.add("undefined-step", f"path '{p.id}' names undefined transition {quote(sid)}", flow.pos(*where),
                          help=ctx.hints.near(sid, tmap))
                prev = None
                continue
            if prev is None and si == 0 and ctx.start is not None and t.from_ != ctx.start:
                diags.add("path-broken",
                          f"path '{p.id}' starts with {quote(sid)}, which does not leave the initial state",
                          flow.pos(*where))
            elif prev is not None and t.from_ != prev.to and not (t.parallel and t.parallel == prev.parallel):
                diags.add("path-broken", f"path '{p.id}': {quote(sid)} leaves '{t.from_}' but '{prev.id}' ends in "
                          f"'{prev.to}'", flow.pos(*where))
            prev = t


@graph_check
def references(ctx: GraphContext) -> None:
    """Every ``${...}`` names an input, a capture every path produces, a requirement or a generated value."""
    _RefCheck(ctx).run()


def _can_end(graph: Graph, terminals: set[str]) -> set[str]:
    """The states from which some edge path leads to a terminal state."""
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
    return can_end


@graph_check
def reachability(ctx: GraphContext) -> None:
    """Every state is reached from the initial one, and leads on (dead ends) and out (loops)."""
    flow, diags, graph, start = ctx.flow, ctx.diags, ctx.graph, ctx.start
    states = flow.state_map
    if start is None or any(t.from_ not in states or t.to not in states for t in flow.transitions):
        return  # the graph is broken already; reachability would only repeat it
    reach = graph.reachable(start)
    outgoing = {a for _e, a, _b, tid in graph.edges if tid is not None}
    dead: set[str] = set()
    for i, s in enumerate(flow.states):
        if s.id not in reach:
            diags.add("unreachable-state", f"state '{s.id}' cannot be reached from '{start}'",
                      flow.pos("states", i, "id"), help="add a transition into it, or remove it")
        elif not s.terminal and s.id not in outgoing:
            dead.add(s.id)
            diags.add("dead-end", f"state '{s.id}' is not terminal and no transition leaves it",
                      flow.pos("states", i, "id"), help="add a transition out of it, or mark it terminal: true")
    # states that cannot reach a terminal state: loops with no way out
    can_end = _can_end(graph, {s.id for s in flow.states if s.terminal})
    for i, s in enumerate(flow.states):
        if s.id in reach and s.id not in can_end and s.id not in dead:
            diags.add("no-way-out", f"from state '{s.id}' no path leads to a terminal state (a loop with no exit)",
                      flow.pos("states", i, "id"), help="add a transition from the loop to a terminal state")


class _RefCheck:
    """The references of one flow: each ``${ROOT...}`` checked by the rule for its root."""

    def __init__(self, ctx: GraphContext):
        self.flow, self.diags, self.hints, self.graph = ctx.flow, ctx.diags, ctx.hints, ctx.graph
        self.tmap = ctx.flow.transition_map
        self.start = ctx.flow.initial_state.id if ctx.flow.initial_state else None

    def run(self) -> None:
        flow = self.flow
        for name, actor in flow.actors.items():
            if actor.base_url:
                self.text(("actors", name, "base_url"), actor.base_url, None, allow_steps=False)
        for name, gen in flow.generate.items():
            if gen.secret:
                self.text(("generate", name, "secret"), gen.secret, None, allow_steps=False)
        for i, t in enumerate(flow.transitions):
            self.transition(i, t)

    def transition(self, i: int, t: Transition) -> None:
        flow, base = self.flow, ("transitions", i)
        for sub in ("request", "response", "wait"):
            for path, text in walk_strings(getattr(t, sub), base + (sub,), "${"):
                self.text(path, text, t)
        for j, f in enumerate(t.failures):
            for path, text in walk_strings(f.provoke, base + ("failures", j, "provoke"), "${"):
                self.text(path, text, t)
            for path, text in walk_strings(f.response, base + ("failures", j, "response"), "${"):
                self.text(path, text, t)
            for name in f.provoke.inputs:
                if name not in flow.inputs:
                    self.diags.add("undefined-input", f"failure '{f.id}' overrides undeclared input {quote(name)}",
                                   flow.key_pos(*base, "failures", j, "provoke", "inputs", name),
                                   help=self.hints.near(name, flow.inputs))
        if t.guard is not None and t.guard.expr:
            at = (*base, "guard", "expr")
            try:
                g = Guard.parse(t.guard.expr)
            except ExprError as exc:  # pragma: no cover - the model parsed it already
                self.report("bad-expression", str(exc), at)
                return
            for p in g.refs():
                self.path(p, at, t, True)

    def report(self, code: str, message: str, at: Path, **kw: Any) -> None:
        """Add a diagnostic at the value ``at`` names: positions are looked up for a problem only
        (a valid flow never reads them, see :class:`flowdoc.load.yamlsafe.SourceMap`)."""
        self.diags.add(code, message, self.flow.pos(*at), **kw)

    def text(self, path: Path, text: str, owner: Transition | None, allow_steps: bool = True) -> None:
        if "${" not in text:  # no reference: nothing to check
            return
        try:
            refs = list(iter_refs(text))
        except ExprError as exc:
            self.report("bad-expression", str(exc), path)
            return
        for ref in refs:
            self.path(ref.path, path, owner, allow_steps)

    def path(self, p: tuple[str, ...], at: Path, owner: Transition | None, allow_steps: bool) -> None:
        root = p[0]
        if root == "inputs":
            self.input_ref(p, at)
        elif root == "steps":
            self.step_ref(p, at, owner, allow_steps)
        elif root in self.flow.requires:
            self.requirement_ref(p, at)
        elif root in self.flow.generate:
            self.generated_ref(p, at)
        else:
            options = ["inputs", "steps", *self.flow.generate, *self.flow.requires]
            self.report("undefined-reference", f"{quote('.'.join(p))} refers to nothing: {quote(root)} is not "
                        "inputs, steps or a generated value", at, help=self.hints.near(root, options))

    def input_ref(self, p: tuple[str, ...], at: Path) -> None:
        inputs = self.flow.inputs
        if len(p) != 2:
            self.report("undefined-input", f"{quote('.'.join(p))} must be inputs.NAME", at)
        elif p[1] not in inputs:
            self.report("undefined-input", f"input {quote(p[1])} is not declared under inputs", at,
                        help=self.hints.near(p[1], inputs) or f"declare it: inputs: {{{p[1]}: {{description: ...}}}}")

    def step_ref(self, p: tuple[str, ...], at: Path, owner: Transition | None, allow_steps: bool) -> None:
        dotted = quote(".".join(p))
        if not allow_steps:
            self.report("bad-reference", f"{dotted}: only inputs can be used here", at)
            return
        if len(p) < 3:
            self.report("undefined-capture", f"{dotted} must be steps.TRANSITION.NAME", at)
            return
        step = self.tmap.get(p[1])
        if step is None:
            self.report("undefined-step", f"{dotted} names undefined transition {quote(p[1])}", at,
                        help=self.hints.near(p[1], self.tmap))
            return
        if step.response is None:
            self.report("undefined-capture", f"transition {quote(p[1])} has no HTTP response to capture from", at)
            return
        name = p[2]
        if name not in RESPONSE_PARTS and name not in step.response.capture:
            self.report("undefined-capture", f"transition {quote(p[1])} captures no {quote(name)}", at,
                        help=self.hints.near(name, step.response.capture)
                        or f"add it: capture: {{{name}: body.{name}}} on {quote(p[1])}")
            return
        if owner is not None and step.id != owner.id and self.start is not None:
            if self.graph.reaches_around(self.start, owner.from_, step.id):
                self.report("capture-not-produced",
                            f"{dotted} is used by '{owner.id}', but a path reaches '{owner.id}' "
                            f"without passing '{step.id}'", at,
                            help=f"use a value every path produces, or route all paths through '{step.id}'")

    def requirement_ref(self, p: tuple[str, ...], at: Path) -> None:
        root = p[0]
        req = self.flow.requires[root]
        if len(p) != 2 or p[1] not in req.provides:
            self.report("undefined-reference", f"{quote('.'.join(p))}: requirement {quote(root)} provides "
                        f"{', '.join(req.provides) or 'nothing'}", at,
                        help=self.hints.near(p[-1], req.provides))

    def generated_ref(self, p: tuple[str, ...], at: Path) -> None:
        root = p[0]
        gen = self.flow.generate[root]
        if len(p) > 2 or (len(p) == 2 and p[1] not in gen.parts):
            parts = ", ".join(f"{root}.{x}" for x in gen.parts) or root
            self.report("undefined-reference",
                        f"{quote('.'.join(p))} is not a part of {quote(root)} (use {parts})", at)
        elif len(p) == 1 and gen.parts:
            self.report("undefined-reference",
                        f"{quote(root)} has parts: use {', '.join(root + '.' + x for x in gen.parts)}", at)
