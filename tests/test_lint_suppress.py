"""Lint suppressions with a reason, per flow and per transition; `omit` in any request."""

from __future__ import annotations

import json

import yaml
from flowdoc.catalog import FlowSet
from flowdoc.render import render_diagram, render_page
from tests.flowkit import base, to_yaml
from tests.helpers import run

REVOKE = {
    "id": "revoke",
    "from": "start",
    "to": "revoked",
    "by": "app -> auth",
    "title": "Revoke the access token",
    "request": {"method": "POST", "path": "/revoke", "auth": "client_secret_basic",
                "form": {"token": "${inputs.client_id}"}},
    "response": {"status": 200},
    "failures": [{"id": "revoke_bad_secret", "when": "the secret is wrong", "provoke": {"inputs": {"client_secret": "x"}},
                  "response": {"status": 401, "error": "invalid_client"}, "to": "rejected", "remedy": "Fix it."}],
}


def _flow(*, step_lint=None, flow_lint=None) -> dict:
    data = base()
    data["states"].append({"id": "revoked", "terminal": True, "handoff": "Done."})
    revoke = dict(REVOKE)
    if step_lint is not None:
        revoke["lint"] = step_lint
    data["transitions"].append(revoke)
    if flow_lint is not None:
        data["lint"] = flow_lint
    return data




def _write(tmp_path, data, name="f.yaml"):
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else to_yaml(data))
    return p


def test_an_empty_200_is_an_arrow_complete_error_without_a_suppression(tmp_path):
    r = run("lint", str(_write(tmp_path, _flow())))
    assert r.exit_code == 1
    assert "error[arrow-complete]: the 200 response of 'revoke' names no key fields" in r.stdout


def test_a_transition_suppression_hides_its_finding_and_lists_it_with_the_reason(tmp_path):
    off = {"disable": ["arrow-complete"], "reason": "RFC 7009 answers an empty 200"}
    p = _write(tmp_path, _flow(step_lint=off))
    r = run("lint", str(p))
    assert r.exit_code == 0, r.output
    assert "arrow-complete" not in r.stdout
    assert "1 finding suppressed by lint: in the flows (--show-suppressed lists them)" in r.stderr
    r = run("lint", "--show-suppressed", str(p))
    assert r.exit_code == 0
    line = next(x for x in r.stdout.splitlines() if "suppressed[arrow-complete]" in x)
    assert line.startswith(f"{p}:") and "the 200 response of 'revoke' names no key fields" in line
    assert "    reason: RFC 7009 answers an empty 200" in r.stdout
    r = run("lint", "--show-suppressed", "--format", "json", str(p))
    data = json.loads(r.stdout)
    assert data["diagnostics"] == []
    [s] = data["suppressed"]
    assert (s["code"], s["reason"], s["file"]) == ("arrow-complete", "RFC 7009 answers an empty 200", str(p))
    assert s["line"] and s["col"]
    r = run("lint", "--show-suppressed", "--format", "github", str(p))
    assert r.stdout.startswith("::notice file=") and "reason: RFC 7009 answers an empty 200" in r.stdout


def test_a_step_suppression_does_not_reach_other_steps(tmp_path):
    data = _flow(step_lint={"disable": ["arrow-complete"], "reason": "empty 200"})
    data["transitions"][0]["response"] = {"status": 200}  # get_token: its own finding stays
    r = run("lint", "--format", "json", str(_write(tmp_path, data)))
    found = json.loads(r.stdout)
    assert [(d["code"], "get_token" in d["message"]) for d in found] == [("arrow-complete", True)]
    assert r.exit_code == 1


def test_a_flow_suppression_covers_every_step_and_flow_wide_rules(tmp_path):
    data = _flow(flow_lint={"disable": ["arrow-complete", "summary-present"], "reason": "a sketch"})
    data["transitions"][0]["response"] = {"status": 200}
    del data["summary"]
    flows = FlowSet.from_paths([_write(tmp_path, data)], lint=True)
    assert flows.diagnostics == []
    assert sorted(s.diagnostic.code for s in flows.suppressed) == ["arrow-complete", "arrow-complete",
                                                                  "summary-present"]


def test_a_suppression_needs_a_reason_and_known_rules(tmp_path):
    text = to_yaml(_flow(step_lint={"disable": ["arrow-complete"]}))
    r = run("validate", str(_write(tmp_path, text)))
    assert r.exit_code == 2
    assert "error[missing-key]: transitions[1].lint needs 'reason'" in r.stdout
    loc = r.stdout.split(": error[missing-key]")[0]
    assert loc.count(":") == 2  # FILE:LINE:COL
    blank = to_yaml(_flow(step_lint={"disable": ["arrow-complete"], "reason": "  "}))
    r = run("validate", str(_write(tmp_path, blank, "blank.yaml")))
    assert r.exit_code == 2 and "give the reason the rules are switched off" in r.stdout
    typo = _flow(flow_lint={"disable": ["arrow-complet"], "reason": "x"})
    p = _write(tmp_path, typo, "typo.yaml")
    r = run("lint", str(p))
    assert r.exit_code == 2
    text = p.read_text().splitlines()
    line = next(i for i, x in enumerate(text, 1) if "arrow-complet" in x)
    assert f"{p}:{line}:" in r.stdout and "error[unknown-lint-rule]: lint.disable names unknown rule " \
        "'arrow-complet'" in r.stdout
    assert "did you mean 'arrow-complete'?" in r.stdout


# ------------------------------------------------------------------ omit in any request

FORM_STEP = {
    "id": "consent",
    "from": "start",
    "to": "done",
    "by": "app -> auth",
    "title": "Approve the consent form without its confirm field",
    "request": {"method": "POST", "path": "/consent", "submit_form": "${steps.get_token.form}",
                "form": {"prompt": "consent"}, "omit": ["confirm"]},
    "response": {"status": 200, "fields": ["ok"]},
}


def test_omit_in_a_request_is_not_drawn_as_sent():
    data = base()
    data["transitions"][0]["request"]["form"]["confirm"] = None  # the old way: a null value
    data["transitions"][0]["request"]["omit"] = ["audience"]
    flows = FlowSet.from_text(to_yaml(data), "f.yaml")
    [flow] = flows.flows
    seq = render_diagram(flow, "sequence", "mermaid")
    assert "POST /token — grant_type=client_credentials, Authorization#58; Basic" in seq
    assert "confirm" not in seq and "audience" not in seq
    assert "confirm" not in render_page(flow)


def test_omit_and_a_value_for_the_same_name_is_an_error(tmp_path):
    data = base()
    data["transitions"][0]["request"]["omit"] = ["Grant_Type"]
    r = run("validate", str(_write(tmp_path, data)))
    assert r.exit_code == 2
    assert "the request sends 'Grant_Type' and omits it" in r.stdout


def test_a_key_parameter_that_is_omitted_is_never_drawn(tmp_path):
    data = base()
    data["transitions"][0]["request"]["key_params"] = ["grant_type", "confirm"]
    data["transitions"][0]["request"]["omit"] = ["confirm"]
    data["transitions"][0]["request"]["submit_form"] = "${inputs.issuer}"
    r = run("validate", str(_write(tmp_path, data)))
    assert "error[key-param-not-sent]: key parameter 'confirm'" in r.stdout


def test_the_verifier_leaves_an_omitted_field_out(tmp_path):
    """A real HTTP server on 127.0.0.1 sees the hidden field of the form left out."""
    from flowdoc.verify import Verifier, VerifyOptions, load_flows
    from tests.support.hostile_http import HostileServer

    page = ('<html><body><form method="post" action="/consent"><input type="hidden" name="confirm" value="yes">'
            '<input type="hidden" name="uid" value="u1"></form></body></html>')
    routes = {("GET", "/page"): lambda seen: (200, [("Content-Type", "text/html")], page),
              ("POST", "/consent"): lambda seen: (200, [("Content-Type", "application/json")], '{"ok": true}')}
    flow = {
        "id": "omit-demo", "title": "Submit a form without one hidden field", "version": "1.0.0",
        "actors": {"app": {"name": "App", "kind": "client"},
                   "auth": {"name": "Auth", "kind": "authorization-server", "base_url": "${inputs.issuer}"}},
        "inputs": {"issuer": {"description": "Issuer"}},
        "states": [{"id": "start", "initial": True}, {"id": "shown"}, {"id": "done", "terminal": True}],
        "transitions": [
            {"id": "show", "from": "start", "to": "shown", "by": "app -> auth", "title": "Open the consent page",
             "request": {"method": "GET", "path": "/page"},
             "response": {"status": 200, "form": True, "capture": {"page": "form"}}},
            {**FORM_STEP, "from": "shown", "request": {**FORM_STEP["request"], "submit_form": "${steps.show.page}"}},
        ],
    }
    p = tmp_path / "omit-demo.yaml"
    p.write_text(yaml.safe_dump(flow, sort_keys=False))
    with HostileServer(routes) as srv:
        with Verifier(VerifyOptions(inputs={"issuer": srv.url})) as v:
            result = v.run(load_flows([p]))
        posted = [s for s in srv.requests if s.method == "POST"]
    assert result.exit_code == 0, [s.failure for s in result.scenarios]
    assert posted and all(b"confirm" not in s.body and b"uid=u1" in s.body for s in posted)


def test_an_html_page_without_a_form_is_complete_with_what_it_says(tmp_path):
    data = _flow()
    data["transitions"][1]["response"] = {"status": 200, "text": ["Signed out"]}
    p = _write(tmp_path, data)
    r = run("lint", str(p))
    assert "arrow-complete" not in r.stdout, r.stdout
    [flow] = FlowSet.from_paths([p]).flows
    assert "200 — “Signed out”" in render_diagram(flow, "sequence", "mermaid")
