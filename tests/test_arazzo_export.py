"""flowdoc export arazzo: every export validates against the Arazzo 1.0 JSON Schema, what Arazzo
cannot express is listed exactly (per example flow), secrets never reach the files, and the CLI's
errors are clear. (Running the exports with Redocly Respect: tests/test_arazzo_respect.py.)"""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
import yaml

import flowdoc
from flowdoc.interop import ArazzoExportError, export_arazzo
from flowdoc.interop._expr import case_insensitive, regex_literal, regex_unliteral
from tests import flowkit
from tests.helpers import FLOWS, ROOT, run_flowdoc
from tests.support.arazzo_examples import EXPORTABLE, NOT_EXPORTABLE, WORKFLOWS

SCHEMA = json.loads((ROOT / "tests/data/arazzo/arazzo-1.0.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
ALL_FLOW_FILES = sorted(p.name for p in FLOWS.glob("*.yaml"))

L, W, C, N = "step left out", "workflow left out", "check not expressed", "note"
UNEXPRESSED = {
    "client-credentials": {("request_token", None, "jwt", C)},
    "gateway-login": {
        ("open_login", None, "redirect", L),
        ("authorize", None, "url-from-response", L), ("authorize", None, "redirect", L),
        ("show_login", None, "url-from-response", L), ("show_login", None, "html-form", L),
        ("submit_credentials", None, "html-form", L), ("submit_credentials", None, "redirect", L),
        ("return_to_gateway", None, "url-from-response", L), ("return_to_gateway", None, "redirect", L),
        ("callback", None, "url-from-response", L), ("callback", None, "redirect", L),
        ("gateway_exchange", None, "internal", L),
        ("call_api", None, "depends", L),
        ("call_api_after_expiry", None, "wait", L), ("call_api_after_expiry", None, "depends", L),
        (None, None, "empty", W),
        ("submit_credentials", "invalid_credentials", "html-form", W),
        ("submit_credentials", "account_locked", "html-form", W),
    },
    "silent-refresh-rotation": {
        ("call_orders", None, "parallel", L), ("call_orders", None, "wait", L),
        ("call_profile", None, "parallel", L),
        ("refresh", "refresh_token_expired", "wait", W),
        (None, None, "requires", N),
    },
}


def schema_errors(doc: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in VALIDATOR.iter_errors(doc)]


def keyset(unexpressed) -> set[tuple]:
    return {(u.step, u.failure, u.kind, u.effect) for u in unexpressed}


# ------------------------------------------------------------------ the schema itself

def test_vendored_schema_is_a_valid_2020_12_schema_that_rejects_a_step_without_operation():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    bad = {"arazzo": "1.0.1", "info": {"title": "t", "version": "1"},
           "sourceDescriptions": [{"name": "a", "url": "./a.yaml", "type": "openapi"}],
           "workflows": [{"workflowId": "w", "steps": [{"stepId": "s"}]}]}
    assert schema_errors(bad)
    bad["workflows"][0]["steps"][0]["operationPath"] = "{$sourceDescriptions.a.url}#/paths/~1x/get"
    assert schema_errors(bad) == []
    bad["arazzo"] = "2.0.0"
    assert schema_errors(bad)


# ------------------------------------------------------------------ every export validates

@pytest.mark.parametrize("name", ALL_FLOW_FILES)
def test_every_flow_file_exports_valid_arazzo_or_says_why_not(name):
    flow = flowdoc.load_flow(FLOWS / name)
    try:
        result = export_arazzo(flow)
    except ArazzoExportError as exc:
        assert flow.id in NOT_EXPORTABLE, f"{name}: {exc}"
        assert exc.unexpressed, "a refusal lists why"
        return
    assert schema_errors(result.document) == []
    # the file as written (YAML text) validates too, and names its OpenAPI descriptions
    files = result.files()
    doc = yaml.safe_load(files[result.filename])
    assert schema_errors(doc) == []
    for sd in doc["sourceDescriptions"]:
        api = yaml.safe_load(files[sd["url"][2:]])
        assert api["openapi"] == "3.1.0" and api["paths"]
        for item in api["paths"].values():
            for op in item.values():
                assert op["responses"], op


@pytest.mark.parametrize("fid", EXPORTABLE)
def test_unexpressed_steps_are_listed_exactly(fid):
    result = export_arazzo(flowdoc.load_flow(FLOWS / f"{fid}.yaml"))
    assert keyset(result.unexpressed) == UNEXPRESSED[fid]
    assert [w["workflowId"] for w in result.document["workflows"]] == WORKFLOWS[fid]
    listed = result.document["x-flowdoc-unexpressed"]
    assert [(u.get("step"), u.get("failure"), u["kind"], u["effect"]) for u in listed] == \
        [(u.step, u.failure, u.kind, u.effect) for u in result.unexpressed]
    # a step left out is not in the workflows it was left out of
    for u in result.unexpressed:
        if u.effect == L:
            for wf in result.document["workflows"]:
                if wf["workflowId"] in u.workflows:
                    assert u.step not in [s["stepId"] for s in wf["steps"]], (u.step, wf["workflowId"])


@pytest.mark.parametrize("fid", NOT_EXPORTABLE)
def test_a_flow_arazzo_cannot_run_at_all_is_refused_with_every_step_listed(fid):
    flow = flowdoc.load_flow(FLOWS / f"{fid}.yaml")
    with pytest.raises(ArazzoExportError) as err:
        export_arazzo(flow)
    listed = {u.step for u in err.value.unexpressed if u.effect == L}
    http_steps = {t.id for t in flow.happy_path()}
    assert listed == http_steps
    failures = {u.failure for u in err.value.unexpressed if u.effect == W and u.failure}
    assert failures == {f.id for t in flow.transitions for f in t.failures}
    kinds = {u.kind for u in err.value.unexpressed}
    assert {"html-form", "generated"} <= kinds  # (authorization-code-pkce follows its redirects itself)


def test_client_credentials_steps_carry_criteria_outputs_and_secret_inputs():
    doc = export_arazzo(flowdoc.load_flow(FLOWS / "client-credentials.yaml")).document
    wf = {w["workflowId"]: w for w in doc["workflows"]}
    happy = wf["happy-path"]
    tok, call = happy["steps"]
    assert tok["operationPath"] == "{$sourceDescriptions.auth.url}#/paths/~1token/post"
    assert {"condition": "$statusCode == 200"} in tok["successCriteria"]
    # case matters for token_type: a regex, not a (case-insensitive) simple condition
    assert {"context": "$response.body#/token_type", "condition": "^Bearer$", "type": "regex"} in tok["successCriteria"]
    assert {"context": "$response.body", "condition": "$[?@.access_token]", "type": "jsonpath"} in tok["successCriteria"]
    assert tok["outputs"] == {"access_token": "$response.body#/access_token", "expires_in": "$response.body#/expires_in"}
    assert tok["x-security"][0]["values"] == {"username": "$inputs.client_id", "password": "$inputs.client_secret"}
    assert call["parameters"] == [{"name": "Authorization", "in": "header",
                                   "value": "Bearer {$steps.request_token.outputs.access_token}"}]
    props = happy["inputs"]["properties"]
    assert props["client_secret"]["format"] == "password" and "default" not in props["client_secret"]
    assert props["scope"]["default"] == "api:read" and "format" not in props["scope"]
    assert happy["inputs"]["required"] == ["client_id", "client_secret"]
    # a failure branch: the override is written, the error code compared case-sensitively
    bad = wf["bad_secret"]["steps"][0]
    assert bad["x-security"][0]["values"]["password"] == "not-the-secret"
    assert {"context": "$response.body#/error", "condition": "^invalid_client$", "type": "regex"} in \
        bad["successCriteria"]
    assert "client_secret" not in wf["bad_secret"]["inputs"]["properties"]
    # the bearer error is read from WWW-Authenticate (RFC 6750); the state is checked after it
    missing = wf["missing_token"]["steps"]
    assert [s["stepId"] for s in missing] == ["request_token", "call_api", "request_token-then"]
    assert "parameters" not in missing[1]
    assert missing[1]["successCriteria"][1]["context"] == "$response.header.WWW-Authenticate"


def test_replay_is_two_sends_of_one_request_and_required_values_are_secret_inputs():
    doc = export_arazzo(flowdoc.load_flow(FLOWS / "silent-refresh-rotation.yaml")).document
    wf = {w["workflowId"]: w for w in doc["workflows"]}
    first, again = wf["rotated_token_replayed"]["steps"]
    assert (first["stepId"], again["stepId"]) == ("refresh", "refresh-replay")
    assert first["requestBody"] == again["requestBody"]
    assert {"condition": "$statusCode == 200"} in first["successCriteria"]
    assert {"condition": "$statusCode == 400"} in again["successCriteria"]
    token = wf["happy-path"]["inputs"]["properties"]["signin_refresh_token"]
    assert token["format"] == "password"
    assert first["requestBody"]["payload"]["refresh_token"] == "$inputs.signin_refresh_token"


# ------------------------------------------------------------------ translation details

def _export(data: dict):
    flow, diags = flowdoc.load.read_flow_text(flowkit.to_yaml(data), "t.yaml")
    assert flow is not None, diags.items
    return export_arazzo(flow)


def test_secrets_never_reach_the_files():
    data = flowkit.base()
    data["inputs"]["client_secret"] = {"secret": True, "default": "s3cr3t-default-value-91",
                                       "example": "s3cr3t-example-value-92"}
    data["inputs"]["api_key"] = {"secret": True, "default": "key-default-value-93"}
    data["transitions"][0]["request"]["headers"] = {"X-Api-Key": "${inputs.api_key}"}
    text = "".join(_export(data).files().values())
    for secret in ("s3cr3t-default-value-91", "s3cr3t-example-value-92", "key-default-value-93"):
        assert secret not in text
    assert "$inputs.api_key" in text and "$inputs.client_secret" in text


def test_generated_values_and_their_dependents_are_left_out_with_reasons():
    data = flowkit.base()
    data["generate"] = {"state": {"kind": "random"}}
    t = data["transitions"][0]
    t["request"]["form"]["state"] = "${state}"
    data["states"].insert(1, {"id": "mid"})
    t["to"] = "mid"
    data["transitions"].append({
        "id": "use_token", "from": "mid", "to": "done", "by": "app -> auth", "title": "Call with the token",
        "request": {"method": "GET", "path": "/userinfo", "auth": "bearer",
                    "token": "${steps.get_token.access_token}"},
        "response": {"status": 200}})
    with pytest.raises(ArazzoExportError) as err:
        _export(data)
    got = {(u.step, u.kind, u.effect) for u in err.value.unexpressed}
    assert ("get_token", "generated", L) in got
    assert ("use_token", "depends", L) in got
    reason = next(u.reason for u in err.value.unexpressed if u.step == "use_token")
    assert "get_token" in reason


def test_values_translate_to_runtime_expressions():
    data = flowkit.base()
    req = data["transitions"][0]["request"]
    req["headers"] = {"X-Trace": "id-${inputs.client_id}-$${literal}", "X-Num": 7, "X-Flag": True}
    req["query"] = {"audience": "${inputs.issuer}/api"}
    data["transitions"][0]["response"]["body"] = {"count": 3, "kind": "a.b*c"}
    data["transitions"][0]["response"]["headers"] = {"Cache-Control": "no-store", "X-Req": None}
    step = _export(data).document["workflows"][0]["steps"][0]
    params = {p["name"]: p["value"] for p in step["parameters"]}
    assert params == {"X-Trace": "id-{$inputs.client_id}-${literal}", "X-Num": "7", "X-Flag": "true",
                      "audience": "{$inputs.issuer}/api"}
    crit = step["successCriteria"]
    assert {"condition": "$response.body#/count == 3"} in crit
    assert {"context": "$response.body#/kind", "condition": r"^a\.b\*c$", "type": "regex"} in crit
    assert {"context": "$response.header.Cache-Control", "condition": "^no\\-store$", "type": "regex"} in crit
    assert {"condition": "$response.header.X-Req != null"} in crit


def test_a_hostile_title_stays_data_in_the_yaml():
    data = flowkit.base()
    data["title"] = "x\n'; {$inputs.client_secret}: &a *a !!python/object:os.system"
    data["transitions"][0]["title"] = "]]> <script>alert(1)</script> #: - {"
    result = _export(data)
    doc = yaml.safe_load(result.files()[result.filename])
    assert doc["info"]["title"] == data["title"]
    assert doc["workflows"][0]["steps"][0]["description"] == data["transitions"][0]["title"]


@pytest.mark.parametrize("text", ["plain", "a.b*c+d?(e)[f]{g}|h^i$j\\k/l-m", "tab\there", "ünïcode ✓", "$x", ""])
def test_regex_literals_match_exactly_and_read_back(text):
    pattern = f"^{regex_literal(text)}$"
    assert re.fullmatch(pattern, text)
    assert not re.fullmatch(pattern, text + "x")
    assert regex_unliteral(pattern) == text
    ci = re.compile(f"^{case_insensitive(text)}$")
    assert ci.match(text) and ci.match(text.upper())


# ------------------------------------------------------------------ the command

def test_cli_writes_the_files_and_lists_what_is_left_out(tmp_path):
    out = tmp_path / "sub" / "gw.arazzo.yaml"
    proc = run_flowdoc("export", "arazzo", "flows/gateway-login.yaml", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.parent.iterdir()) == ["gw.arazzo.yaml", "gw.gateway.openapi.yaml"]
    assert schema_errors(yaml.safe_load(out.read_text())) == []
    lines = proc.stderr.splitlines()
    assert any(re.match(r"flows/gateway-login\.yaml:\d+:\d+: warning\[arazzo-redirect\]: step 'open_login' left out",
                        line) for line in lines), proc.stderr
    assert "1 workflow, 18 things left out" in proc.stderr
    assert "redocly respect" in proc.stderr and "--server gateway=URL" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_default_output_is_named_after_the_flow(tmp_path):
    proc = run_flowdoc("export", "arazzo", str(FLOWS / "client-credentials.yaml"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "client-credentials.api.openapi.yaml", "client-credentials.arazzo.yaml", "client-credentials.auth.openapi.yaml"]


def test_cli_refuses_a_flow_with_nothing_to_run_and_writes_nothing(tmp_path):
    out = tmp_path / "pkce.arazzo.yaml"
    proc = run_flowdoc("export", "arazzo", "flows/authorization-code-pkce.yaml", "-o", str(out))
    assert proc.returncode == 1
    assert "no step of flow 'authorization-code-pkce' can run as an Arazzo workflow; nothing was written" in proc.stderr
    assert "step 'start' left out" in proc.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["flows/nope.yaml"], "no such file"),
    (["tests/data/arazzo/README.md"], "not a valid flow"),
    (["flows/client-credentials.yaml", "-o", "-"], "give -o FILE"),
])
def test_cli_bad_input_exits_2_without_a_traceback(args, message, tmp_path):
    proc = run_flowdoc("export", "arazzo", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_invalid_flow_is_reported_with_its_position(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(flowkit.to_yaml(flowkit.base()).replace("method: POST", "methd: POST"))
    keep = tmp_path / "bad.arazzo.yaml"
    keep.write_text("previous export\n")
    proc = run_flowdoc("export", "arazzo", str(bad), "-o", str(keep))
    assert proc.returncode == 2
    assert re.search(r"bad\.yaml:\d+:\d+: error\[unknown-key\]", proc.stderr), proc.stderr
    assert keep.read_text() == "previous export\n"


def test_a_literal_starting_with_dollar_cannot_be_written_and_is_listed():
    data = flowkit.base()
    data["transitions"][0]["request"]["form"]["price"] = "$100"
    data["transitions"][0]["response"]["body"] = {"currency": "$", "tmpl": "$${x}"}
    with pytest.raises(ArazzoExportError) as err:
        _export(data)
    assert ("get_token", "literal", L) in {(u.step, u.kind, u.effect) for u in err.value.unexpressed}
    del data["transitions"][0]["request"]["form"]["price"]  # an expected value is a regex: '$' is fine there
    crit = _export(data).document["workflows"][0]["steps"][0]["successCriteria"]
    assert {"context": "$response.body#/currency", "condition": "^\\$$", "type": "regex"} in crit
    assert {"context": "$response.body#/tmpl", "condition": "^\\$\\{x\\}$", "type": "regex"} in crit
