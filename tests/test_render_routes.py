"""Alternative routes drawn where they leave the happy path, and documented error answers not
called success: the sequence model says so, and Mermaid's own parser reads the same tree."""

from __future__ import annotations

import pytest

from flowdoc.catalog import FlowSet
from flowdoc.escape import unwrap
from flowdoc.render import diagram as D
from flowdoc.render import render_diagram
from flowdoc.render.routes import find_routes

DEVICE = """\
id: device-mini
title: Device sign-in, approved or denied
version: "1.0.0"
actors:
  tv: {name: TV App, kind: client}
  auth: {name: Authorization Server, kind: authorization-server, base_url: "${inputs.issuer}"}
inputs:
  issuer: {description: Issuer}
states:
  - {id: start, initial: true}
  - {id: code_shown}
  - {id: pending}
  - {id: tokens, terminal: true, handoff: See the authorization guide.}
  - {id: denied, terminal: true, failure: true}
transitions:
  - id: request_code
    from: start
    to: code_shown
    by: tv -> auth
    title: Ask for a device code and a user code
    request: {method: POST, path: /device, form: {client_id: tv}}
    response: {status: 200, fields: [device_code, user_code]}
  - id: poll_pending
    from: code_shown
    to: pending
    by: tv -> auth
    title: Poll before the user has approved
    request: {method: POST, path: /token, form: {grant_type: device_code}}
    response: {status: 400, error: authorization_pending}
    failures:
      - id: slow_down
        when: the TV polls too fast
        response: {status: 400, error: slow_down}
        remedy: Add 5 s to the interval.
  - id: poll_token
    from: pending
    to: tokens
    by: tv -> auth
    title: Poll after the user has approved
    request: {method: POST, path: /token, form: {grant_type: device_code}}
    response: {status: 200, fields: [access_token]}
  - id: poll_denied
    from: pending
    to: denied
    by: tv -> auth
    title: Poll after the user has denied
    request: {method: POST, path: /token, form: {grant_type: device_code}}
    response: {status: 400, error: access_denied}
paths:
  - {id: approved, title: The user approves, steps: [request_code, poll_pending, poll_token]}
  - {id: denied, title: The user denies the request, steps: [request_code, poll_pending, poll_denied]}
"""


def _flow(text: str):
    fs = FlowSet.from_text(text, "device-mini.yaml")
    assert fs.flows, fs.diagnostics
    return fs.flows[0]


def _messages(section) -> list[str]:
    return [unwrap(i.text) for i in section.items if isinstance(i, D.Message)]


def test_an_alternative_path_is_an_alt_where_it_leaves_the_happy_path():
    flow = _flow(DEVICE)
    seq = D.build_sequence(flow)
    top = seq.items
    # request_code (request, answer), poll_pending (request, alt of its answers), then the branch point
    assert [type(i).__name__ for i in top] == ["Message", "Message", "Message", "Block", "Block", "Note"]
    branch = top[4]
    assert branch.kind == "alt" and branch.route
    assert [s.label for s in branch.sections] == ["The user approves", "The user denies the request"]
    assert _messages(branch.sections[0]) == ["POST /token — grant_type=device_code", "200 — access_token"]
    assert _messages(branch.sections[1]) == ["POST /token — grant_type=device_code", "400 access_denied"]
    # the denial is drawn inside the branch, never after the tokens were issued
    assert not any(isinstance(i, D.Message) and "access_denied" in i.text for i in top)


def test_a_documented_error_answer_is_not_labelled_success():
    flow = _flow(DEVICE)
    pending = D.build_sequence(flow).items[3]
    assert pending.kind == "alt" and not pending.route and pending.transition == "poll_pending"
    assert [s.label for s in pending.sections] == ["documented answer", "the TV polls too fast"]
    edges = {e.label for e in D.build_state_graph(flow).edges if e.transition == "poll_pending"}
    assert "documented answer (400 authorization_pending)" in edges
    assert not any(label.startswith("success") for label in edges)
    # a step whose answer is a success keeps the word
    ok = _flow(DEVICE.replace("response: {status: 400, error: authorization_pending}", "response: {status: 200, "
                              "fields: [interval]}"))
    assert D.build_sequence(ok).items[3].sections[0].label == "success"


def test_alternatives_from_the_end_of_the_happy_path_are_opt_blocks():
    text = DEVICE.replace("steps: [request_code, poll_pending, poll_token]}", "steps: [request_code, poll_pending]}")
    flow = _flow(text)
    routes = find_routes(flow)
    assert routes.end == "pending" and [t.id for t in routes.happy] == ["request_code", "poll_pending"]
    blocks = [i for i in D.build_sequence(flow).items if isinstance(i, D.Block) and i.route]
    assert [(b.kind, b.sections[0].label) for b in blocks] == [("opt", "The user denies the request"),
                                                               ("opt", "Poll after the user has approved")]


def test_transitions_without_paths_branch_at_their_state():
    text = DEVICE[:DEVICE.index("paths:")]
    flow = _flow(text)
    routes = find_routes(flow)
    assert [t.id for t in routes.happy] == ["request_code", "poll_pending", "poll_token"]
    assert {k: [(b.label, [t.id for t in b.steps]) for b in v] for k, v in routes.branches.items()} == {
        "pending": [("Poll after the user has denied", ["poll_denied"])]}
    assert routes.rest == []


def test_linear_order_is_kept_when_asked():
    flow = _flow(DEVICE)
    seq = D.build_sequence(flow, D.ordered_transitions(flow))
    assert not any(isinstance(i, D.Block) and i.route for i in seq.items)


@pytest.mark.node
def test_mermaid_parses_alt_and_opt_routes_as_the_model_says():
    from tests.support.mermaid import parse_mermaid

    texts = [DEVICE, DEVICE.replace("steps: [request_code, poll_pending, poll_token]}",
                                    "steps: [request_code, poll_pending]}")]
    sources = [render_diagram(_flow(t), "sequence", "mermaid") for t in texts]
    results = parse_mermaid(sources)
    for src, res in zip(sources, results, strict=True):
        assert res["ok"], (res.get("error"), src)
    body = results[0]["labels"]["body"]
    blocks = [(b["block"], [unwrap(s["text"]) for s in b["sections"]]) for b in body if b["kind"] == "block"]
    assert blocks == [("alt", ["documented answer", "the TV polls too fast"]),
                      ("alt", ["The user approves", "The user denies the request"])]
    opts = [b["block"] for b in results[1]["labels"]["body"] if b["kind"] == "block"]
    assert opts == ["alt", "opt", "opt"]
