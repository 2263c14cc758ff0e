"""Every example flow and every hostile-corpus flow × every Mermaid view, parsed by Mermaid.

A diagram must parse, and what Mermaid parsed (labels after its own entity decoding) must
equal the text of the flow: participants, messages, notes, alt/else and par/and labels,
state labels, transition labels, flowchart node and edge texts. Wrapping of long labels is
allowed: labels are compared with line breaks (<br/>) read as spaces, on both sides.

All diagrams of the module go through one Node process (``parse_mermaid`` once).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flowdoc  # noqa: E402
from flowdoc.escape import unwrap  # noqa: E402
from flowdoc.render import VIEWS, render_diagram  # noqa: E402
from flowdoc.render import diagram as D  # noqa: E402
from tests.data.render.hostile_flows import LABELS, hostile_flows  # noqa: E402

pytestmark = pytest.mark.node

EXAMPLE_FILES = sorted((ROOT / "flows").glob("*.yaml"))
FLOWS = {p.name: flowdoc.load_flow(p) for p in EXAMPLE_FILES}
FLOWS.update({f.id: f for f in hostile_flows()})
NAMES = list(FLOWS)


def n(text: str) -> str:
    return unwrap(text)


@pytest.fixture(scope="module")
def parsed() -> dict:
    from tests.support.mermaid import parse_mermaid

    keys = [(name, view) for name in NAMES for view in VIEWS]
    sources = [render_diagram(FLOWS[name], view) for name, view in keys]
    results = parse_mermaid(sources)
    return {k: (src, res) for k, src, res in zip(keys, sources, results, strict=True)}


def get(parsed, name, view) -> dict:
    src, res = parsed[(name, view)]
    assert res["ok"], f"Mermaid rejects the {view} diagram of {name}: {res.get('error')}\n{src}"
    assert not res.get("extractError"), res.get("extractError")
    return res["labels"]


# ------------------------------------------------------------------ sequence


def _seq_model(items) -> list:
    out = []
    for it in items:
        if isinstance(it, D.Message):
            arrow = {"request": "->>", "response": "-->>", "failure": "--x", "action": "->>"}[it.style]
            out.append(("message", it.src, it.dst, n(it.text), arrow))
        elif isinstance(it, D.Note):
            out.append(("note", tuple(it.actors), n(it.text)))
        else:
            secs = [("" if it.kind == "rect" else n(s.label), _seq_model(s.items)) for s in it.sections]
            out.append(("block", it.kind, secs))
    return out


def _seq_parsed(items, key_of) -> list:
    out = []
    for it in items:
        if it["kind"] == "message":
            out.append(("message", key_of[it["from"]], key_of[it["to"]], n(it["text"]), it["arrow"]))
        elif it["kind"] == "note":
            out.append(("note", tuple(key_of[a] for a in it["actors"]), n(it["text"])))
        else:
            secs = [("" if it["block"] == "rect" else n(s["text"]), _seq_parsed(s["items"], key_of))
                    for s in it["sections"]]
            out.append(("block", it["block"], secs))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_sequence_round_trips(parsed, name):
    flow = FLOWS[name]
    lab = get(parsed, name, "sequence")
    model = D.build_sequence(flow)
    assert lab["autonumber"] is True

    # participants: one per actor, display names exactly, `actor` for people
    assert [(p["name"], p["type"]) for p in lab["participants"]] == [
        (a.name, "actor" if a.kind.value == "person" else "participant") for a in flow.actors.values()
    ]
    key_of = {p["id"]: k for p, k in zip(lab["participants"], flow.actors, strict=True)}

    # the whole tree, in order, equals the model
    assert _seq_parsed(lab["body"], key_of) == _seq_model(model.items)

    # ... and the model says what the flow says: one request (or action) arrow per transition, the
    # happy path's in its order (alternatives sit where they leave it)
    steps = [m for m in lab["messages"] if m["arrow"] == "->>"]
    expected = {}
    for t in flow.transitions:
        if t.request is not None:
            text = D.request_label(flow, t.request)
            assert text.startswith(f"{t.request.method} {t.request.path}")
        else:
            text = t.action or t.title
        expected[t.id] = (t.sender, t.receiver, n(text))
    drawn = [(key_of[m["from"]], key_of[m["to"]], n(m["text"])) for m in steps]
    assert Counter(drawn) == Counter(expected.values())
    happy = [expected[t.id] for t in flow.happy_path()]
    it = iter(drawn)
    assert all(any(d == h for d in it) for h in happy), "the happy path's steps are drawn in its order"

    # every failure branch is an else-section of an alt block of its step (not of a route), with its
    # status and error code (the parsed tree equals the model, so the model says which block is which)
    elses = [s for b in model.walk() if isinstance(b, D.Block) and b.kind == "alt" and not b.route
             for s in b.sections[1:]]
    failures = [(t, f) for t in flow.transitions for f in t.failures]
    assert len(elses) == len(failures)
    got = Counter((n(s.label), tuple((n(i.text), {"response": "-->>", "failure": "--x"}[i.style]) for i in s.items))
                  for s in elses)
    # a failure that runs on through later steps is drawn where it shows, after the step that provoked it
    want = Counter((n(D.failure_condition(f) if not f.through else f"after {t.id}: {D.failure_condition(f)}"),
                    ((n(D.failure_label(flow, f, D.telling_fields(t))), "--x"),)) for t, f in failures)
    assert got == want
    for _, f in failures:
        if f.response.outcome == "response":
            assert D.failure_outcome(f) == "/".join(map(str, f.response.statuses)) + (
                f" {f.response.error}" if f.response.error else "")

    # parallel groups are par blocks; the handoff is a note at the end
    groups = {t.parallel for t in flow.transitions if t.parallel}
    pars = [b for b in lab["body"] if b["kind"] == "block" and b["block"] == "par"]
    assert len(pars) == len(groups)
    handoffs = [s.handoff for s in flow.states if s.handoff]
    tail = lab["body"][len(lab["body"]) - len(handoffs):]
    assert [(i["kind"], n(i["text"])) for i in tail] == [("note", n(h)) for h in handoffs]


# --------------------------------------------------------------------- state


def _state_arrows(lab: dict, flow) -> list[tuple[str | None, str | None, str]]:
    """Mermaid's arrows as (from, to, label): flow states by id (declared first, in file order),
    choice points as ``choice:N`` (in declaration order), the start and end as None."""
    declared = [s for s in lab["states"] if s["type"] == "default"]
    assert [n(s["text"]) for s in declared] == [n(st.label) for st in flow.states]
    key_of: dict[str, str | None] = {s["id"]: st.id for s, st in zip(declared, flow.states, strict=True)}
    choices = [s for s in lab["states"] if s["type"] == "choice"]
    key_of.update({s["id"]: f"choice:{i}" for i, s in enumerate(choices, 1)})
    key_of.update({s["id"]: None for s in lab["states"] if s["type"] in ("start", "end")})
    return [(key_of[t["from"]], key_of[t["to"]], n(t["text"])) for t in lab["transitions"]]


def _through_choices(arrows) -> set[tuple[str | None, str | None]]:
    """(from, to) of the arrows, an arrow into a choice point joined with those out of it."""
    out: dict[str | None, list[str | None]] = {}
    for a, b, _ in arrows:
        out.setdefault(a, []).append(b)
    pairs = set()
    for a, b, _ in arrows:
        if a is not None and a.startswith("choice:"):
            continue
        todo, seen = [b], set()
        while todo:
            x = todo.pop()
            if x is not None and x.startswith("choice:"):
                if x not in seen:
                    seen.add(x)
                    todo += out.get(x, [])
            else:
                pairs.add((a, x))
    return pairs


def test_state_diagram_of_client_credentials_is_exactly(parsed):
    """The whole state diagram of one example, written out: states, choice points, labels."""
    arrows = _state_arrows(get(parsed, "client-credentials.yaml", "state"), FLOWS["client-credentials.yaml"])
    assert arrows == [
        (None, "no_token", ""),
        ("no_token", "choice:1", "Request an access token with the client credentials "
                                 "[no cached token valid for more than 60 s]"),
        ("choice:1", "token_cached", "success (200)"),
        ("choice:1", "client_rejected", "Wrong client secret (401 invalid_client) Unknown client id "
                                        "(401 invalid_client) Scope not allowed (400 invalid_scope)"),
        ("token_cached", "choice:2", "Call the API with the cached bearer token"),
        ("choice:2", "api_called", "success (200)"),
        ("choice:2", "no_token", "Token missing or expired (401 invalid_token)"),
        ("api_called", None, ""),
        ("client_rejected", None, ""),
    ]


def _polling_states(flow) -> dict:
    """State id -> the polling of the step whose client waits there: the state its ``starts_after``
    step leads to, else the polled step's source state."""
    out = {}
    for t in flow.transitions:
        poll = t.request.poll if t.request is not None else None
        if poll is not None:
            first = flow.transition_map[poll.starts_after] if poll.starts_after else t
            out[first.to if poll.starts_after else t.from_] = poll
    return out


@pytest.mark.parametrize("name", NAMES)
def test_state_diagram_round_trips(parsed, name):
    flow = FLOWS[name]
    lab = get(parsed, name, "state")
    got = _state_arrows(lab, flow)

    # every step and every failure branch is an arrow (through its choice point), and no other
    expected = {(None, s.id) for s in flow.states if s.initial} | {(s.id, None) for s in flow.states if s.terminal}
    expected |= {(t.from_, t.to) for t in flow.transitions}
    expected |= {(t.from_, f.to or t.from_) for t in flow.transitions for f in t.failures}
    polls = _polling_states(flow)
    expected |= {(sid, sid) for sid in polls}
    assert _through_choices(got) == expected
    # a polled step: a self-transition where the client waits, labelled with the intermediate answers
    for sid, poll in polls.items():
        assert any(a == b == sid and all(n(p.error) in x for p in poll.pending) for a, b, x in got), sid

    # states: every title, initial and terminal markers, failure states styled apart
    by_id = {st.id: s for s, st in zip([s for s in lab["states"] if s["type"] == "default"], flow.states,
                                       strict=True)}
    for st in flow.states:
        assert ("failure" in by_id[st.id]["classes"]) == st.failure
    assert "failure" in lab["classDefs"] or not any(s.failure for s in flow.states)
    assert [(a, b) for a, b, _ in got if a is None] == [(None, s.id) for s in flow.states if s.initial]
    assert sorted(a for a, b, _ in got if b is None) == sorted(s.id for s in flow.states if s.terminal)

    # every transition appears once as an arrow, labelled with its title and guard
    def title_and_guard(t) -> str:
        return n(f"{t.title} [{t.guard.text}]" if t.guard else t.title)

    labels = Counter(t for _, _, t in got)
    for t in flow.transitions:
        text = title_and_guard(t)
        same = sum(1 for u in flow.transitions if title_and_guard(u) == text)
        assert labels[text] == same, (t.id, text)
    # failure branches lead to their state (the flow's state of the branch, or back where the step
    # started), labelled with their title (or id) and the error code they answer with
    for t in flow.transitions:
        for f in t.failures:
            target = f.to or t.from_
            # (branches to one state share an arrow, a line each: their labels would overlap)
            assert any(b == target and a is not None and a.startswith("choice:") and n(f.title or f.id) in x
                       and (not f.response.error or n(f.response.error) in x) for a, b, x in got), (t.id, f.id)
    # choice points where a state has guarded alternatives (or a step has failure branches)
    n_choice = sum(1 for s in lab["states"] if s["type"] == "choice")
    expected_choices = sum(1 for t in flow.transitions if t.failures) + sum(
        1 for s in flow.states
        if len([t for t in flow.transitions if t.from_ == s.id]) >= 2
        and any(t.guard for t in flow.transitions if t.from_ == s.id)
    )
    assert n_choice == expected_choices


# ----------------------------------------------------------------- flowchart


@pytest.mark.parametrize("name", NAMES)
def test_flowchart_round_trips(parsed, name):
    flow = FLOWS[name]
    lab = get(parsed, name, "flowchart")
    fc = D.build_flowchart(flow)
    shapes = {"start": "stadium", "end": "stadium", "state": "round", "step": "square", "decision": "diamond"}
    assert [(v["type"], n(v["text"])) for v in lab["vertices"]] == [(shapes[x.shape], n(x.text)) for x in fc.nodes]
    key_of = {v["id"]: x.key for v, x in zip(lab["vertices"], fc.nodes, strict=True)}
    assert [(key_of[e["start"]], key_of[e["end"]], n(e["text"]), e["stroke"]) for e in lab["edges"]] == [
        (e.src, e.dst, n(e.label), "dotted" if e.dotted else "normal") for e in fc.edges
    ]
    # decisions come from guards and failure conditions, verbatim
    diamonds = Counter(n(v["text"]) for v in lab["vertices"] if v["type"] == "diamond")
    want = Counter([n(t.guard.text) for t in flow.transitions if t.guard]
                   + [n(f.when) for t in flow.transitions for f in t.failures])
    assert diamonds == want
    steps = Counter(n(v["text"]) for v in lab["vertices"] if v["type"] == "square")
    assert steps == Counter(n(t.title) for t in flow.transitions)


def test_corpus_is_used():
    assert len([k for k in FLOWS if k.startswith("hostile-")]) == len(LABELS) >= 40


def test_refresh_flowchart_draws_401_then_refresh_decision(parsed):
    """The "API returns 401 → refresh token valid? → ..." picture of the refresh flow."""
    lab = get(parsed, "silent-refresh-rotation.yaml", "flowchart")
    verts = {v["id"]: v for v in lab["vertices"]}
    text = {v["id"]: n(v["text"]) for v in lab["vertices"]}
    edges = [(text[e["start"]], text[e["end"]], n(e["text"])) for e in lab["edges"]]
    assert ("Call the API with the expired access token (first tab)", "Access token expired",
            "401 invalid_token") in edges
    assert any(a == "Access token expired" and verts_type == "diamond"
               for a, b, _ in edges for verts_type in [next(v["type"] for v in verts.values() if n(v["text"]) == b)])
    assert any(b == "Re-authentication required" and x == "yes — 400 invalid_grant" for _, b, x in edges)
