"""Each graph check: a failing and a passing case, with the position of the problem."""

from __future__ import annotations

import pytest


from tests.flowkit import base, codes, diagnose, to_yaml


def test_base_flow_is_clean():
    assert diagnose(base(), lint=True) == []


def _add_transition(flow, **kw):
    t = {
        "id": kw.pop("id", "extra"),
        "from": kw.pop("from_", "start"),
        "to": kw.pop("to", "done"),
        "by": kw.pop("by", "app -> auth"),
        "title": kw.pop("title", "Do something specific"),
        **kw,
    }
    flow["transitions"].append(t)
    return t


def m_undefined_state(f):
    f["transitions"][0]["to"] = "dnoe"


def m_undefined_actor(f):
    f["transitions"][0]["by"] = "ap -> auth"


def m_undefined_input(f):
    f["transitions"][0]["request"]["form"]["scope"] = "${inputs.scop}"


def m_undefined_capture(f):
    _add_transition(f, id="use", from_="done", to="done")
    f["states"].append({"id": "mid"})
    f["transitions"][0]["to"] = "mid"
    f["transitions"][1].update({"from": "mid", "request": {"method": "GET", "path": "/me", "auth": "bearer",
                                                        "token": "${steps.get_token.acess_token}"},
                                "response": {"status": 200, "fields": ["sub"]}})


def m_undefined_step(f):
    f["transitions"][0]["request"]["form"]["x"] = "${steps.nope.value}"


def m_undefined_reference(f):
    f["transitions"][0]["request"]["form"]["x"] = "${pkce.challenge}"


def m_bad_expression(f):
    f["transitions"][0]["request"]["form"]["x"] = "${not closed"


def m_duplicate_state(f):
    f["states"].append({"id": "done"})


def m_duplicate_transition(f):
    _add_transition(f, id="get_token")


def m_no_initial(f):
    f["states"][0]["initial"] = False


def m_two_initials(f):
    f["states"][1]["initial"] = True


def m_no_terminal(f):
    for s in f["states"]:
        s["terminal"] = False


def m_terminal_exit(f):
    _add_transition(f, id="again", from_="done", to="start")


def m_unreachable(f):
    f["states"].append({"id": "island", "terminal": True, "handoff": "x"})


def m_dead_end(f):
    f["states"].append({"id": "stuck"})
    f["transitions"][0]["failures"][0]["to"] = "stuck"


def m_no_way_out(f):
    f["states"] += [{"id": "a"}, {"id": "b"}]
    _add_transition(f, id="to_a", to="a")
    _add_transition(f, id="a_b", from_="a", to="b")
    _add_transition(f, id="b_a", from_="b", to="a")


def m_capture_not_produced(f):
    f["states"].append({"id": "mid"})
    f["transitions"][0]["to"] = "mid"
    _add_transition(f, id="shortcut", from_="start", to="mid", guard="token cached")
    _add_transition(f, id="use", from_="mid", to="done",
                    request={"method": "GET", "path": "/me", "auth": "bearer", "token": "${steps.get_token.access_token}"},
                    response={"status": 200, "fields": ["sub"]})


def m_parallel_mismatch(f):
    f["transitions"][0]["parallel"] = "race"
    _add_transition(f, id="other", to="rejected", parallel="race")


def m_parallel_alone(f):
    f["transitions"][0]["parallel"] = "race"


def m_path_broken(f):
    f["paths"] = [{"id": "main", "steps": ["get_token", "get_token"]}]


def m_path_undefined(f):
    f["paths"] = [{"id": "main", "steps": ["get_tokn"]}]


def m_failure_to_undefined(f):
    f["transitions"][0]["failures"][0]["to"] = "rejectd"


def m_steps_in_base_url(f):
    f["actors"]["auth"]["base_url"] = "${steps.get_token.access_token}"


def m_provoke_undeclared_input(f):
    f["transitions"][0]["failures"][0]["provoke"]["inputs"] = {"client_secrt": "x"}


def m_guard_ref(f):
    f["transitions"][0]["guard"] = {"text": "trusted", "expr": "inputs.trusted == true"}


def m_reserved_generate(f):
    f["generate"] = {"steps": {"kind": "random"}}


GRAPH_CASES = [
    (m_undefined_state, "undefined-state", ("transitions", 0, "to"), "did you mean 'done'?"),
    (m_undefined_actor, "undefined-actor", ("transitions", 0, "by"), "did you mean 'app'?"),
    (m_undefined_input, "undefined-input", ("transitions", 0, "request", "form", "scope"), None),
    (m_undefined_capture, "undefined-capture", ("transitions", 1, "request", "token"), "did you mean 'access_token'?"),
    (m_undefined_step, "undefined-step", ("transitions", 0, "request", "form", "x"), None),
    (m_undefined_reference, "undefined-reference", ("transitions", 0, "request", "form", "x"), None),
    (m_bad_expression, "bad-expression", ("transitions", 0, "request", "form", "x"), None),
    (m_duplicate_state, "duplicate-id", ("states", 3, "id"), None),
    (m_duplicate_transition, "duplicate-id", ("transitions", 1, "id"), None),
    (m_no_initial, "no-initial-state", ("states",), None),
    (m_two_initials, "multiple-initial-states", ("states", 1, "initial"), None),
    (m_no_terminal, "no-terminal-state", ("states",), None),
    (m_terminal_exit, "terminal-has-exit", ("transitions", 1, "from"), None),
    (m_unreachable, "unreachable-state", ("states", 3, "id"), None),
    (m_dead_end, "dead-end", ("states", 3, "id"), None),
    (m_no_way_out, "no-way-out", ("states", 3, "id"), None),
    (m_capture_not_produced, "capture-not-produced", ("transitions", 2, "request", "token"), None),
    (m_parallel_mismatch, "parallel-mismatch", ("transitions", 1, "parallel"), None),
    (m_parallel_alone, "parallel-alone", ("transitions", 0, "parallel"), None),
    (m_path_broken, "path-broken", ("paths", 0, "steps", 1), None),
    (m_path_undefined, "undefined-step", ("paths", 0, "steps", 0), "did you mean 'get_token'?"),
    (m_failure_to_undefined, "undefined-state", ("transitions", 0, "failures", 0, "to"), "did you mean 'rejected'?"),
    (m_steps_in_base_url, "bad-reference", ("actors", "auth", "base_url"), None),
    (m_provoke_undeclared_input, "undefined-input", None, "did you mean 'client_secret'?"),
    (m_guard_ref, "undefined-input", ("transitions", 0, "guard", "expr"), None),
    (m_reserved_generate, "reserved-name", None, None),
]


@pytest.mark.parametrize("mutate,code,path,help", GRAPH_CASES, ids=[c[1] + ":" + c[0].__name__[2:] for c in GRAPH_CASES])
def test_graph_check_fails(mutate, code, path, help):
    f = base()
    mutate(f)
    text = to_yaml(f)
    diags = diagnose(text)
    hits = [d for d in diags if d.code == code]
    assert hits, [(d.code, d.message) for d in diags]
    d = hits[0]
    assert d.severity == "error" and d.line is not None
    if path is not None:
        # the reported position is the one of the offending value in the YAML
        from flowdoc.load.yamlsafe import parse_yaml
        from flowdoc.diagnostics import DiagnosticList

        _v, src = parse_yaml(text, DiagnosticList("t"))
        assert (d.line, d.col) == src.value(path)
    if help:
        assert d.help == help


# the passing twin of each check: a similar flow that is fine


def p_capture_on_every_path(f):
    f["states"].append({"id": "mid"})
    f["transitions"][0]["to"] = "mid"
    _add_transition(f, id="use", from_="mid", to="done",
                    request={"method": "GET", "path": "/me", "auth": "bearer", "token": "${steps.get_token.access_token}"},
                    response={"status": 200, "fields": ["sub"]})


def p_parallel_group(f):
    f["transitions"][0]["parallel"] = "race"
    t = _add_transition(f, id="twin", parallel="race")
    t.update({k: f["transitions"][0][k] for k in ("request", "response")})


def p_loop_with_exit(f):
    f["states"] += [{"id": "a"}]
    _add_transition(f, id="to_a", to="a")
    _add_transition(f, id="a_a", from_="a", to="a", title="Poll again while pending")
    _add_transition(f, id="a_done", from_="a", to="done", title="Finish after polling")


def p_path(f):
    f["paths"] = [{"id": "main", "steps": ["get_token"]}]


def p_guard_ref(f):
    f["inputs"]["trusted"] = {"default": True}
    f["transitions"][0]["guard"] = {"text": "trusted", "expr": "inputs.trusted == true"}


def p_generated(f):
    f["generate"] = {"pkce": {"kind": "pkce"}, "state": {"kind": "random"}}
    f["transitions"][0]["request"]["form"].update({"x": "${pkce.challenge}", "s": "${state}"})


def p_literal_dollar(f):
    f["transitions"][0]["request"]["form"]["x"] = "cost: $${not a ref}"


@pytest.mark.parametrize("mutate", [p_capture_on_every_path, p_parallel_group, p_loop_with_exit, p_path, p_guard_ref,
                                    p_generated, p_literal_dollar])
def test_graph_check_passes(mutate):
    f = base()
    mutate(f)
    assert [d for d in diagnose(f) if d.severity == "error"] == []


def test_all_problems_reported_at_once():
    f = base()
    m_undefined_actor(f)
    m_failure_to_undefined(f)
    m_undefined_input(f)
    assert {"undefined-actor", "undefined-state", "undefined-input"} <= set(codes(f))


def test_requirements_across_flows(tmp_path):
    from flowdoc import FlowSet

    a = base()
    b = base()
    b["id"] = "needs-a"
    b["requires"] = {"login": {"flow": "mini", "provides": {"token": "steps.get_token.access_token"}}}
    b["transitions"][0]["request"]["form"]["t"] = "${login.token}"
    (tmp_path / "a.yaml").write_text(to_yaml(a))
    (tmp_path / "b.yaml").write_text(to_yaml(b))
    # checking b alone finds a beside it
    res = FlowSet.from_paths([tmp_path / "b.yaml"])
    assert res.errors == [] and not res.invalid
    b["requires"]["login"]["provides"]["token"] = "steps.get_token.acces_token"
    (tmp_path / "b.yaml").write_text(to_yaml(b))
    res = FlowSet.from_paths([tmp_path])
    assert [d.code for d in res.errors] == ["undefined-capture"]
    b["requires"]["login"]["flow"] = "nothing"
    (tmp_path / "b.yaml").write_text(to_yaml(b))
    assert [d.code for d in FlowSet.from_paths([tmp_path]).errors] == ["undefined-flow"]


def test_duplicate_flow_version(tmp_path):
    from flowdoc import FlowSet

    (tmp_path / "a.yaml").write_text(to_yaml(base()))
    (tmp_path / "b.yaml").write_text(to_yaml(base()))
    res = FlowSet.from_paths([tmp_path])
    assert [d.code for d in res.errors] == ["duplicate-flow"]
    other = base()
    other["version"] = "2.0.0"
    other["changelog"] = [{"version": "2.0.0", "notes": "Second."}]
    (tmp_path / "b.yaml").write_text(to_yaml(other))
    assert FlowSet.from_paths([tmp_path]).errors == []


# ------------------------------------------------------------------ long and hostile flows (issue 14, 16)

import json  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from flowdoc.check.dominators import Dominance, immediate_dominators  # noqa: E402
from flowdoc.check.graph import HINT_BUDGET, Graph  # noqa: E402
from flowdoc.load import read_flow_text  # noqa: E402


def _reach_without(succ, root, skip):
    seen, todo = {root}, [root]
    while todo:
        v = todo.pop()
        for w in succ[v]:
            if w != skip and w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 12).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=30))))
def test_dominators_agree_with_removing_the_node(graph):
    # d dominates v  <=>  v is reachable, and not once d is taken out (d != v)
    n, edges = graph
    succ = [[] for _ in range(n)]
    for a, b in edges:
        succ[a].append(b)
    dom = Dominance(succ, 0)
    reach = _reach_without(succ, 0, None)
    idom = immediate_dominators(succ, 0)
    for v in range(n):
        assert (idom[v] != -1) == (v in reach)
        for d in range(n):
            expected = v in reach and (d == v or d == 0 or v not in _reach_without(succ, 0, d))
            assert dom.dominates(d, v) == expected, (n, edges, d, v)


def _chain(n: int, refs: bool) -> str:
    """A flow of n states in a chain, one transition each; with refs, each step sends what the one
    before captured (the capture-not-produced check asks about every one)."""
    head = base()
    for k in ("states", "transitions", "inputs", "lifecycle"):
        head.pop(k)
    head["actors"]["auth"].pop("base_url")
    states = [{"id": f"s{i}"} for i in range(n)]
    states[0]["initial"] = True
    states[-1].update(terminal=True, handoff="See the Authorization Guide.")
    trans = [{"id": f"t{i}", "from": f"s{i}", "to": f"s{i + 1}", "by": "app -> auth", "title": f"Step {i} onward",
              "request": {"method": "POST", "path": "/t", "form": {"x": f"${{steps.t{i - 1}.tok}}" if refs and i else "v"}},
              "response": {"status": 200, "capture": {"tok": "body.tok"}}} for i in range(n - 1)]
    line = lambda x: f"- {json.dumps(x, separators=(',', ':'))}\n"  # noqa: E731
    return to_yaml(head) + "states:\n" + "".join(map(line, states)) + "transitions:\n" + "".join(map(line, trans))


def test_a_sixteen_thousand_state_chain_validates():
    # within the size limits, and every capture reference answered from the dominator tree
    diags = diagnose(_chain(16_000, refs=True))
    assert [d for d in diags if d.severity == "error"] == []


def test_capture_not_produced_on_a_long_chain_with_a_bypass():
    text = _chain(2_000, refs=True)
    bypass = {"id": "skip", "from": "s10", "to": "s12", "by": "app -> auth", "title": "Jump ahead"}
    text += f"- {json.dumps(bypass)}\n"
    hits = [d for d in diagnose(text) if d.code == "capture-not-produced"]
    # s12 can be reached around t11 (by 'skip'), and s12's step t12 uses t11's capture
    assert [d.message.split("'")[1] for d in hits] == ["steps.t11.tok"]


def test_did_you_mean_stays_within_a_budget():
    n = 3_000  # every transition names a misspelt state: 3,000 hints against 3,000 states
    text = _chain(n, refs=False).replace('"to":"s', '"to":"sx')
    hits = [d for d in diagnose(text) if d.code == "undefined-state"]
    assert len(hits) == n - 1  # every problem is reported
    with_hint = [d for d in hits if d.help]
    assert with_hint and len(with_hint) <= HINT_BUDGET // n + 1


def test_a_capture_of_a_duplicated_transition_id():
    # the id is reported as a duplicate; which of the two captures is meant is not guessed
    f = base()
    f["states"].append({"id": "mid"})
    f["transitions"][0]["to"] = "mid"
    _add_transition(f, id="use", from_="mid", to="done",
                    request={"method": "GET", "path": "/me", "auth": "bearer", "token": "${steps.get_token.access_token}"},
                    response={"status": 200, "fields": ["sub"]})
    twin = _add_transition(f, id="get_token", from_="start", to="done")
    twin.update({k: f["transitions"][0][k] for k in ("request", "response")})
    found = codes(f)
    assert "duplicate-id" in found and "capture-not-produced" not in found
    flow, _diags = read_flow_text(to_yaml(f), "t.yaml")
    graph = Graph(flow)
    assert graph.reaches_around("start", "mid", "use") is True  # 'use' leaves mid
    assert graph.reaches_around("start", "done", "use") is True  # the twin goes around it
    assert graph.reaches_around("mid", "done", "use") is False  # from mid, only 'use' leads on
    assert graph.reaches_around("start", "done", "get_token") is False  # duplicated: not answered


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 8).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, n - 1), st.integers(0, n - 1), st.booleans()), max_size=14))))
def test_a_small_graph_searched_answers_as_the_dominators_do(graph):
    """Graph.reaches_around searches a graph of few edges (SMALL_GRAPH) and asks the dominators of a
    larger one: both say alike whether a path avoids a transition (ids used twice, failure edges)."""
    from types import SimpleNamespace

    import flowdoc.check.graph as graph_module

    n, edges = graph
    transitions = []
    for k, (tid, a, b, failure) in enumerate(edges):
        if failure and transitions:  # a failure branch of the transition before, to b
            transitions[-1].failures.append(SimpleNamespace(id=f"f{k}", to=f"s{b}"))
        else:
            transitions.append(SimpleNamespace(id=f"t{tid}", from_=f"s{a}", to=f"s{b}", failures=[]))
    flow = SimpleNamespace(transitions=transitions)
    states, tids = [f"s{i}" for i in range(n)] + ["nowhere"], [f"t{i}" for i in range(6)]
    searched = Graph(flow)  # type: ignore[arg-type]
    assert len(searched.edges) <= graph_module.SMALL_GRAPH
    small = graph_module.SMALL_GRAPH
    try:
        graph_module.SMALL_GRAPH = -1
        dominated = Graph(flow)  # type: ignore[arg-type]
        expected = {(s, t, x): dominated.reaches_around(s, t, x) for s in states[:n] for t in states for x in tids}
    finally:
        graph_module.SMALL_GRAPH = small
    for (s, t, x), want in expected.items():
        assert searched.reaches_around(s, t, x) == want, (edges, s, t, x)
