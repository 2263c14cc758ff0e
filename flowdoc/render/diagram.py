"""A neutral description of a flow's diagrams, built once from the :class:`~flowdoc.model.Flow`.

Three views, each a small tree of dataclasses holding the *author's text, unescaped*:

* :class:`Sequence` — participants, messages, notes and blocks (``alt``/``par``/``rect``);
* :class:`StateGraph` — states, choice points and labelled edges;
* :class:`Flowchart` — states, steps and decision diamonds.

The renderers (:mod:`.mermaid`, :mod:`.dot`) only lay these out and escape the text;
tests compare what Mermaid parsed with the labels here, and the labels here with the flow.
Keys in the model are the flow's own ids (actor ids, state ids); renderers map them to
safe ids of their language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

from ..model.flow import Failure, Flow, Poll, Transition, parallel_groups

from .labels import (  # noqa: F401 - the text helpers, also used as diagram.NAME
    secret_values,
    redact,
    value_text,
    is_literal,
    key_params,
    request_line,
    request_label,
    client_auth,
    status_text,
    response_fields,
    response_brief,
    response_label,
    failure_outcome,
    failure_label,
    telling_fields,
    failure_name,
    failure_condition,
    failure_target,
    duration_text,
    wait_text,
    ordered_transitions,
    poll_answer_label,
    poll_label,
    poll_text,
)
from .once import once
from .routes import find_routes, happy_label


# ------------------------------------------------------------------ sequence


@dataclass
class Participant:
    key: str
    name: str
    person: bool = False


@dataclass
class Message:
    src: str
    dst: str
    text: str
    style: Literal["request", "response", "failure", "action"] = "request"
    transition: str | None = None
    failure: str | None = None


@dataclass
class Note:
    actors: list[str]
    text: str
    kind: Literal["handoff", "wait", "internal"] = "handoff"


@dataclass
class Section:
    label: str
    items: list["SeqItem"] = field(default_factory=list)
    failure: str | None = None  # failure id of an else-branch


@dataclass
class Block:
    kind: Literal["alt", "opt", "par", "rect", "loop"]
    sections: list[Section]
    transition: str | None = None
    #: an alternative route where it leaves the happy path (its first section is the happy path's way)
    route: bool = False


SeqItem = Union[Message, Note, Block]


@dataclass
class Sequence:
    participants: list[Participant]
    items: list[SeqItem]
    autonumber: bool = True

    def walk(self):
        """Every item, depth first, in source order."""

        def rec(items):
            for it in items:
                yield it
                if isinstance(it, Block):
                    for s in it.sections:
                        yield from rec(s.items)

        yield from rec(self.items)


def failures_shown_at(flow: Flow, t: Transition) -> list[tuple[Transition, Failure]]:
    """The failure branches whose answer shows at ``t``: its own, and those of earlier steps that
    run on ``through`` later steps and end at ``t`` (as (owner, failure))."""
    own = [(t, f) for f in t.failures if not f.through]
    return own + _moved_failures(flow).get(t.id, [])


def _moved_failures(flow: Flow) -> dict[str, list[tuple[Transition, Failure]]]:
    """Step id → the failures of earlier steps that run on ``through`` later steps and end there
    (in file order): one pass over the flow, once per page."""

    def make() -> dict[str, list[tuple[Transition, Failure]]]:
        out: dict[str, list[tuple[Transition, Failure]]] = {}
        for u in flow.transitions:
            for f in u.failures:
                if f.through:
                    out.setdefault(f.through[-1], []).append((u, f))
        return out

    return once(flow, "moved_failures", flow, make)


def _step_items(flow: Flow, t: Transition) -> list[SeqItem]:
    a, b = t.sender, t.receiver
    items: list[SeqItem] = []
    if t.wait is not None:
        items.append(Note([a], wait_text(flow, t.wait), "wait"))
    tell = telling_fields(t)
    if t.request is not None and t.response is not None:
        if t.request.poll is not None:  # the request and its intermediate answers in a loop
            items.append(_poll_block(flow, t, t.request.poll))
        else:
            items.append(Message(a, b, request_label(flow, t.request), "request", t.id))
        ok: SeqItem = Message(b, a, response_label(flow, t.response, tell), "response", t.id)
        back_from, back_to = b, a
    else:
        items.append(Message(a, b, t.action or t.title, "action", t.id))
        ok = None  # type: ignore[assignment]
        back_from, back_to = b, a
    shown = failures_shown_at(flow, t)
    if shown:
        first = Section(t.guard.text if t.guard else answer_label(t), [ok] if ok is not None else [])
        sections = [first]
        for owner, f in shown:
            msg = Message(back_from, back_to, failure_label(flow, f, tell if owner is t else telling_fields(owner)), "failure", owner.id, f.id)
            cond = failure_condition(f) if owner is t else f"after {owner.id}: {failure_condition(f)}"
            sections.append(Section(cond, [msg], failure=f.id))
        items.append(Block("alt", sections, t.id))
    elif ok is not None:
        items.append(ok)
    if t.internal:
        note = Note([a, b] if a != b else [a], f"internal: {t.title}", "internal")
        return [Block("rect", [Section("", [note, *items])], t.id)]
    return items


def _poll_block(flow: Flow, t: Transition, poll: Poll) -> Block:
    """A polled step: a loop of the request and its intermediate answers; the answer that ends it follows."""
    a, b = t.sender, t.receiver
    assert t.request is not None
    items: list[SeqItem] = [Message(a, b, request_label(flow, t.request), "request", t.id)]
    items += [Message(b, a, poll_answer_label(p), "response", t.id) for p in poll.pending]
    return Block("loop", [Section(poll_label(flow, t, poll), items)], t.id)



def answer_label(t: Transition) -> str:
    """The section of a step's documented answer: "success", unless that answer is an error status
    (a pending poll's 400 is documented, not a success)."""
    r = t.response
    if r is not None and all(s >= 400 for s in r.statuses):
        return "documented answer"
    return "success"


def _route_items(flow: Flow, route: list[Transition]) -> list[SeqItem]:
    items: list[SeqItem] = []
    for group in parallel_groups(route):
        if len(group) > 1:
            items.append(Block("par", [Section(g.title, _step_items(flow, g)) for g in group], group[0].parallel))
        else:
            items.extend(_step_items(flow, group[0]))
    return items


def _with_routes(flow: Flow) -> list[SeqItem]:
    """The happy path, each alternative route as an alt/else where it leaves it (opt after its end),
    then the steps no route reaches."""
    routes = find_routes(flow)
    items: list[SeqItem] = []
    for group in parallel_groups(routes.happy):
        body = _route_items(flow, group)
        here = routes.branches.pop(group[0].from_, [])
        if not here:
            items.extend(body)
            continue
        sections = [Section(happy_label(flow, group[0]), body)]
        sections += [Section(b.label, _route_items(flow, b.steps)) for b in here]
        items.append(Block("alt", sections, None, route=True))
    for branches in routes.branches.values():  # from the happy path's last state (or the initial one)
        items += [Block("opt", [Section(b.label, _route_items(flow, b.steps))], None, route=True) for b in branches]
    return items + _route_items(flow, routes.rest)


def build_sequence(flow: Flow, order: list[Transition] | None = None) -> Sequence:
    """The sequence diagram; ``order`` draws the steps one after another in that order instead of
    placing the alternatives where they leave the happy path."""
    parts = [Participant(k, a.name, a.kind.value == "person") for k, a in flow.actors.items()]
    items = _with_routes(flow) if order is None else _route_items(flow, order)
    keys = [p.key for p in parts]
    span = [keys[0], keys[-1]] if len(keys) > 1 else keys[:1]
    for s in flow.states:
        if s.handoff:
            items.append(Note(list(span), s.handoff, "handoff"))
    return Sequence(parts, items)


# --------------------------------------------------------------------- state


@dataclass
class StateNode:
    key: str
    label: str
    kind: Literal["state", "choice"] = "state"
    initial: bool = False
    terminal: bool = False
    failure: bool = False


@dataclass
class StateEdge:
    src: str | None  # None: the initial pseudo state [*]
    dst: str | None  # None: the final pseudo state [*]
    label: str = ""
    kind: Literal["transition", "failure", "success", "choice", "start", "end", "poll"] = "transition"
    transition: str | None = None
    failure: str | None = None


@dataclass
class StateGraph:
    nodes: list[StateNode]
    edges: list[StateEdge]
    _index: dict[str, StateNode] = field(default_factory=dict, init=False, repr=False, compare=False)

    def node(self, key: str) -> StateNode:
        if len(self._index) != len(self.nodes):
            self._index = {n.key: n for n in self.nodes}
        return self._index[key]


def transition_label(t: Transition) -> str:
    """``Title [guard]``: the state diagram's edge label of a transition."""
    return f"{t.title} [{t.guard.text}]" if t.guard else t.title


def success_label(t: Transition) -> str:
    if t.response is not None:
        return f"{answer_label(t)} ({response_brief(t.response)})"
    return "success"


def failure_edge_label(f: Failure) -> str:
    return f"{failure_name(f)} ({failure_outcome(f)})"


def build_state_graph(flow: Flow) -> StateGraph:
    """States, a choice point per guarded fork and per step with failure branches, and edges:
    the initial ones first, then each state's steps in file order, then the final ones.
    One pass over the states and one over the transitions (linear in the flow's size)."""
    nodes: list[StateNode] = []
    starts: list[StateEdge] = []
    ends: list[StateEdge] = []
    for s in flow.states:
        nodes.append(StateNode(s.id, s.label, "state", s.initial, s.terminal, s.failure))
        if s.initial:
            starts.append(StateEdge(None, s.id, "", "start"))
        if s.terminal:
            ends.append(StateEdge(s.id, None, "", "end"))
    used = {n.key for n in nodes}

    def choice_key(hint: str) -> str:
        k, n = f"{hint}?", 1
        while k in used:
            n += 1
            k = f"{hint}?{n}"
        used.add(k)
        nodes.append(StateNode(k, "", "choice"))
        return k

    outgoing: dict[str, list[Transition]] = {}
    for t in flow.transitions:
        outgoing.setdefault(t.from_, []).append(t)
    edges = starts
    polls = _poll_states(flow)
    for node in nodes[: len(flow.states)]:
        for t, poll in polls.get(node.key, ()):  # polling: the state stays while the answer is an intermediate one
            label = "\n".join(poll_answer_label(p) for p in poll.pending)
            edges.append(StateEdge(node.key, node.key, label, "poll", t.id))
        outs = outgoing.get(node.key)
        if outs:
            _state_edges(node.key, outs, edges, choice_key)
    edges.extend(ends)
    return StateGraph(nodes, edges)


def _poll_states(flow: Flow) -> dict[str, list[tuple[Transition, Poll]]]:
    """State id -> the polled steps (with their polling) whose client waits there: the state after
    ``starts_after`` (where the polling starts), else the polled step's own source state."""
    out: dict[str, list[tuple[Transition, Poll]]] = {}
    tm = flow.transition_map
    for t in flow.transitions:
        poll = t.request.poll if t.request is not None else None
        if poll is None:
            continue
        first = tm.get(poll.starts_after) if poll.starts_after else None
        out.setdefault(first.to if first is not None else t.from_, []).append((t, poll))
    return out


def _state_edges(sid: str, outs: list[Transition], edges: list[StateEdge], choice_key) -> None:
    entry = sid
    if len(outs) >= 2 and any(t.guard for t in outs):
        entry = choice_key(sid)
        edges.append(StateEdge(sid, entry, "", "choice"))
    for t in outs:
        label = transition_label(t)
        if t.failures:
            c = choice_key(t.id)
            edges.append(StateEdge(entry, c, label, "transition", t.id))
            edges.append(StateEdge(c, t.to, success_label(t), "success", t.id))
            # failure branches to the same state: one arrow, a line each (parallel arrows'
            # labels land on top of each other in Mermaid's layout)
            by_target: dict[str, list[Failure]] = {}
            for f in t.failures:
                by_target.setdefault(failure_target(t, f), []).append(f)
            for target, fs in by_target.items():
                label = "\n".join(failure_edge_label(f) for f in fs)
                edges.append(StateEdge(c, target, label, "failure", t.id, fs[0].id))
        else:
            edges.append(StateEdge(entry, t.to, label, "transition", t.id))


# ----------------------------------------------------------------- flowchart


@dataclass
class FlowNode:
    key: str
    text: str
    shape: Literal["start", "end", "state", "step", "decision"]
    failure: bool = False
    transition: str | None = None
    failure_id: str | None = None


@dataclass
class FlowEdge:
    src: str
    dst: str
    label: str = ""
    dotted: bool = False


@dataclass
class Flowchart:
    nodes: list[FlowNode]
    edges: list[FlowEdge]
    direction: str = "TD"


def build_flowchart(flow: Flow, order: list[Transition] | None = None) -> Flowchart:
    """States as rounded boxes, steps as boxes, guards and failure conditions as diamonds.

    A guard is a diamond before its step (yes: the step; no: stay in the state); each
    failure condition is a diamond after the step (yes: its response and the state it
    leads to; no: the next condition, and finally the success path).
    """
    nodes: list[FlowNode] = []
    edges: list[FlowEdge] = []
    for s in flow.states:
        shape = "start" if s.initial else "end" if s.terminal else "state"
        nodes.append(FlowNode(f"state:{s.id}", s.label, shape, s.failure))  # type: ignore[arg-type]
    for t in ordered_transitions(flow) if order is None else order:
        src = f"state:{t.from_}"
        step = f"step:{t.id}"
        if t.guard:
            g = f"guard:{t.id}"
            nodes.append(FlowNode(g, t.guard.text, "decision", transition=t.id))
            edges.append(FlowEdge(src, g))
            edges.append(FlowEdge(g, step, "yes"))
            edges.append(FlowEdge(g, src, "no", dotted=True))
        else:
            edges.append(FlowEdge(src, step))
        nodes.append(FlowNode(step, t.title, "step", transition=t.id))
        poll = t.request.poll if t.request is not None else None
        if poll is not None:
            edges.append(FlowEdge(step, step, poll_text(flow, poll), dotted=True))
        brief = response_brief(t.response) if t.response is not None else ""
        prev = step
        for f in t.failures:
            d = f"failure:{t.id}:{f.id}"
            nodes.append(FlowNode(d, f.when, "decision", transition=t.id, failure_id=f.id))
            edges.append(FlowEdge(prev, d, "no" if prev != step else ""))
            edges.append(FlowEdge(d, f"state:{failure_target(t, f)}", f"yes — {failure_outcome(f)}"))
            prev = d
        if prev == step:
            edges.append(FlowEdge(step, f"state:{t.to}", brief))
        else:
            edges.append(FlowEdge(prev, f"state:{t.to}", "no" + (f" — {brief}" if brief else "")))
    return Flowchart(nodes, edges)
