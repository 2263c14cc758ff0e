"""The one reference walker (flowdoc.model.refs) and the inputs a flow uses."""

from __future__ import annotations

from flowdoc.load import read_flow_text
from flowdoc.model.flow import CLIENT_SECRET_AUTH, Request
from flowdoc.model.refs import inputs_used, walk_refs, walk_strings

from .flowkit import base, to_yaml


def _flow(data):
    flow, diags = read_flow_text(to_yaml(data), "t.yaml")
    assert flow is not None, diags.items
    return flow


def test_walk_refs_honours_the_escape_and_reports_bad_strings():
    errors = []
    found = [(p, r.text) for p, r in walk_refs(
        {"a": "$${inputs.not_a_ref} ${inputs.x}", "b": ["${steps.t.code}", "${ bad ref }", 3, None]},
        ("root",), on_error=lambda p, exc: errors.append(p))]
    assert found == [(("root", "a"), "inputs.x"), (("root", "b", 0), "steps.t.code")]
    assert errors == [("root", "b", 1)]


def test_walk_strings_visits_written_fields_and_the_credentials_auth_implies():
    req = Request.model_validate({"method": "POST", "path": "/token", "auth": "client_secret_post",
                                  "client_id": "${inputs.cid}", "form": {"scope": "${inputs.scope}"}})
    assert req.sends_client_credentials and req.auth in CLIENT_SECRET_AUTH
    strings = list(walk_strings(req, ("request",)))
    assert (("request", "client_id"), "${inputs.cid}") in strings
    assert (("request", "form", "scope"), "${inputs.scope}") in strings
    # the default of client_secret (not written) is at the path of 'auth', which implies it
    assert (("request", "auth"), "${inputs.client_secret}") in strings
    assert (("request", "auth"), "${inputs.client_id}") not in strings
    plain = Request.model_validate({"method": "GET", "path": "/x"})
    assert not plain.sends_client_credentials
    assert [p for p, _ in walk_strings(plain)] == [("method",), ("path",)]


def test_walk_is_not_recursive():
    deep: object = "${inputs.x}"
    for _ in range(5000):  # far past Python's recursion limit
        deep = [deep]
    assert [r.text for _, r in walk_refs(deep)] == ["inputs.x"]


def test_inputs_used_by_a_client_and_by_one_run():
    data = base()
    data["inputs"]["only_in_provoke"] = {"description": "x"}
    data["inputs"]["in_guard"] = {"description": "x"}
    t = data["transitions"][0]
    t["failures"][0]["provoke"]["request"] = {"query": {"q": "${inputs.only_in_provoke}"}}
    t["guard"] = {"text": "when allowed", "expr": "inputs.in_guard == 'yes'"}
    flow = _flow(data)
    # a client: everything but the recipes that provoke failures; guards too; defaults of client_secret_basic
    assert inputs_used(flow) == {"issuer", "client_id", "client_secret", "in_guard"}
    # one run: the happy path alone, then with the failure provoked
    happy = flow.happy_path()
    assert inputs_used(flow, happy) == {"issuer", "client_id", "client_secret"}
    failure = flow.transitions[0].failures[0]
    assert inputs_used(flow, happy, failure) == {"issuer", "client_id", "client_secret", "only_in_provoke"}
    assert inputs_used(flow, []) == set()
