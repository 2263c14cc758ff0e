"""flowdoc check --openapi: the example flows against the test server's OpenAPI description, and
mutated copies of that description, each of which must be caught at the flow's line."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate as validate_spec

from flowdoc.interop.openapi import Description, _segment_matches, load_description, match_path
from tests.helpers import run
from tests.support.hostile_http import HostileServer

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "tests" / "data" / "openapi" / "test-server.yaml"
FLOWS = str(ROOT / "flows")
BASE = yaml.safe_load(SPEC.read_text())



def write(tmp_path, doc, name="api.yaml") -> str:
    p = tmp_path / name
    p.write_text(json.dumps(doc) if name.endswith(".json") else yaml.safe_dump(doc, sort_keys=False))
    return str(p)


def mutated(fn):
    doc = copy.deepcopy(BASE)
    fn(doc)
    return doc


def line_of(path: Path, needle: str, after: str | None = None) -> int:
    lines = path.read_text().splitlines()
    start = next(i for i, t in enumerate(lines) if after in t) if after else 0
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


def test_description_is_valid_openapi_31():
    assert BASE["openapi"] == "3.1.0"
    validate_spec(BASE)


def test_example_flows_pass_against_the_test_server_description():
    r = run("check", "--openapi", str(SPEC), FLOWS)
    assert r.exit_code == 0, r.output
    m = re.search(r"(\d+) requests, (\d+) statuses, (\d+) response fields, (\d+) parameters, (\d+) error codes",
                  r.stderr)
    assert m, r.stderr
    requests, statuses, fields, params, errors = map(int, m.groups())
    # every HTTP step of the seven flow files is compared, not skipped (a step that follows redirects
    # compares its request only: its documented answer may come from another operation)
    assert requests >= 38 and statuses >= 60 and fields >= 50 and params >= 50 and errors >= 25


def test_the_same_description_as_json_passes(tmp_path):
    r = run("check", "--openapi", write(tmp_path, BASE, "api.json"), FLOWS)
    assert r.exit_code == 0, r.output


def _token(doc):
    return doc["paths"]["/token"]["post"]


def _drop_enum(path_to_enum, value):
    def fn(doc):
        node = doc
        for k in path_to_enum:
            node = node[k]
        node.remove(value)
    return fn


# (id, mutation, code, flow file, text on the reported line, anchor above it, pointer prefix)
MUTATIONS = [
    ("removed-path", lambda d: d["paths"].pop("/token"), "openapi-unknown-path",
     "client-credentials.yaml", "path: /token", None, "#/paths"),
    ("wrong-method", lambda d: d["paths"]["/token"].update(put=d["paths"]["/token"].pop("post")),
     "openapi-unknown-method", "client-credentials.yaml", "method: POST", None, "#/paths/~1token"),
    ("removed-status", lambda d: _token(d)["responses"].pop("401"), "openapi-unknown-status",
     "client-credentials.yaml", "response: {status: 401, error: invalid_client}", None,
     "#/paths/~1token/post/responses"),
    ("removed-field", lambda d: d["components"]["schemas"]["TokenResponse"]["properties"].pop("expires_in"),
     "openapi-unknown-field", "client-credentials.yaml", "fields: [access_token, token_type, expires_in, scope]",
     None, "#/components/schemas/TokenResponse"),
    ("removed-error-code",
     _drop_enum(["paths", "/token", "post", "responses", "400", "content", "application/json", "schema", "allOf", 1,
                 "properties", "error", "enum"], "invalid_scope"),
     "openapi-unknown-error", "client-credentials.yaml", "response: {status: 400, error: invalid_scope}", None,
     "#/paths/~1token/post/responses/400/content/application~1json/schema/allOf/1/properties/error/enum"),
    ("removed-bearer-error",
     _drop_enum(["components", "responses", "BearerError", "content", "application/json", "schema", "allOf", 1,
                 "properties", "error", "enum"], "invalid_token"),
     "openapi-unknown-error", "client-credentials.yaml", "response: {status: 401, error: invalid_token}", None,
     "#/components/responses/BearerError"),
    ("removed-query-param",
     lambda d: d["paths"]["/auth"]["get"].update(parameters=[p for p in d["paths"]["/auth"]["get"]["parameters"]
                                                             if p["name"] != "code_challenge"]),
     "openapi-unknown-param", "authorization-code-pkce.yaml", "code_challenge: ${pkce.challenge}", None,
     "#/paths/~1auth/get/parameters"),
    ("removed-form-param", lambda d: d["components"]["schemas"]["TokenRequest"]["properties"].pop("code_verifier"),
     "openapi-unknown-param", "authorization-code-pkce.yaml", "code_verifier: ${pkce.verifier}",
     "id: exchange_code", "#/components/schemas/TokenRequest"),
    ("removed-request-body", lambda d: d["paths"]["/interaction/{uid}/confirm"]["post"].pop("requestBody"),
     "openapi-unknown-param", "authorization-code-pkce.yaml", "  form:", "id: give_consent",
     "#/paths/~1interaction~1{uid}~1confirm/post"),
    ("renamed-path-segment",
     lambda d: d["paths"].update({"/interaction/{uid}/signin": d["paths"].pop("/interaction/{uid}/login")}),
     "openapi-unknown-path", "gateway-login.yaml", "path: /interaction/{uid}/login", None, "#/paths"),
    ("no-json-body", lambda d: d["paths"]["/api/me"]["get"]["responses"]["200"].pop("content"),
     "openapi-unknown-field", "client-credentials.yaml", "fields: [sub, scope]", None,
     "#/paths/~1api~1me/get/responses/200"),
    ("gateway-error-dropped",
     _drop_enum(["components", "responses", "BearerError", "content", "application/json", "schema", "allOf", 1,
                 "properties", "error", "enum"], "login_required"),
     "openapi-unknown-error", "gateway-login.yaml", "response: {status: 401, error: login_required}", None,
     "#/components/responses/BearerError"),
]


@pytest.mark.parametrize("case", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_each_mutation_is_caught_at_the_flow_line(tmp_path, case):
    _id, fn, code, flow, needle, anchor, ptr = case
    spec = write(tmp_path, mutated(fn))
    r = run("check", "--openapi", spec, "--format", "json", FLOWS)
    assert r.exit_code == 1, r.output
    found = json.loads(r.stdout)
    assert found and {f["code"] for f in found} == {code}, found
    want_line = line_of(ROOT / "flows" / flow, needle, anchor)
    here = [f for f in found if f["file"].endswith("/" + flow) and f["line"] == want_line]
    assert here, (want_line, [(f["file"], f["line"], f["message"]) for f in found])
    assert all(f["pointer"].startswith(ptr) and f["openapi"] == spec for f in here), here
    assert all(f["pointer"] in f["message"] and f["col"] for f in found)


def test_text_and_github_formats_carry_location_and_pointer(tmp_path):
    spec = write(tmp_path, mutated(lambda d: _token(d)["responses"].pop("401")))
    cc = ROOT / "flows" / "client-credentials.yaml"
    line = line_of(cc, "response: {status: 401, error: invalid_client}")
    text = run("check", "--openapi", spec, str(cc))
    assert text.exit_code == 1
    assert re.search(rf"client-credentials.yaml:{line}:\d+: error\[openapi-unknown-status\]: POST /token: status 401 "
                     r"is not a declared response \(declared: 200, 400\) \(OpenAPI #/paths/~1token/post/responses\)",
                     text.stdout), text.stdout
    gh = run("check", "--openapi", spec, "--format", "github", str(cc))
    assert gh.exit_code == 1
    assert re.search(rf"^::error file=.*client-credentials.yaml,line={line},col=\d+,title=openapi-unknown-status::"
                     r".*#/paths/~1token/post/responses", gh.stdout, re.M), gh.stdout


def test_ranges_default_and_renamed_template_variables_pass(tmp_path):
    def fn(d):
        responses = _token(d)["responses"]
        responses["4XX"] = responses.pop("400")  # 401 stays exact: the more specific key wins
        me = d["paths"]["/api/me"]["get"]["responses"]
        me["default"] = me.pop("401")
        d["paths"]["/interaction/{id}/login"] = d["paths"].pop("/interaction/{uid}/login")
        d["paths"]["/interaction/{id}/login"]["parameters"] = [{"name": "id", "in": "path", "required": True,
                                                                "schema": {"type": "string"}}]
    r = run("check", "--openapi", write(tmp_path, mutated(fn)), FLOWS)
    assert r.exit_code == 0, r.output


def test_server_base_path_may_prefix_the_paths(tmp_path):
    def fn(d):
        d["servers"] = [{"url": "https://api.example.test/v1"}]
    r = run("check", "--openapi", write(tmp_path, mutated(fn)), FLOWS)
    assert r.exit_code == 0, r.output
    desc = load_description(write(tmp_path, mutated(fn), "b.yaml"))
    assert match_path(desc, "/v1/token")[0] == "/token"
    assert match_path(desc, "/v2/token") is None


def test_actor_option_limits_the_check(tmp_path):
    spec = write(tmp_path, mutated(lambda d: d["paths"].pop("/token")))
    assert run("check", "--openapi", spec, "--actor", "api", FLOWS).exit_code == 0
    assert run("check", "--openapi", spec, "--actor", "auth", FLOWS).exit_code == 1


def test_segment_matching():
    assert _segment_matches("{id}", "abc")
    assert _segment_matches("{name}.json", "orders.json")
    assert not _segment_matches("{name}.json", ".json")
    assert _segment_matches("v{major}-{minor}", "v1-2")
    assert not _segment_matches("v{major}-{minor}", "v1")
    assert not _segment_matches("token", "tokens")
    # a long hostile segment is matched in linear time (str.find), never by a backtracking regex
    assert not _segment_matches("{a}x{b}x{c}y", "x" * 200_000)


def test_ref_cycles_and_remote_refs_are_bounded(tmp_path):
    def fn(d):
        schemas = d["components"]["schemas"]
        schemas["Loop1"] = {"$ref": "#/components/schemas/Loop2"}
        schemas["Loop2"] = {"$ref": "#/components/schemas/Loop1"}
        _token(d)["responses"]["200"]["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/Loop1"}
        d["paths"]["/api/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
            "$ref": "http://127.0.0.1:9/remote.yaml#/ApiMe"}
    r = run("check", "--openapi", write(tmp_path, mutated(fn)), FLOWS)
    # what a cycle or a remote reference describes is unknown: not reported, never fetched
    assert r.exit_code == 0, r.output
    assert "1 remote $ref not followed" in r.stderr


def test_deep_allof_fan_out_is_bounded(tmp_path):
    def fn(d):
        schemas = d["components"]["schemas"]
        for i in range(40):  # 2**40 paths through the allOf tree if not bounded
            schemas[f"N{i}"] = {"allOf": [{"$ref": f"#/components/schemas/N{i + 1}"}] * 2}
        schemas["N40"] = {"properties": {"sub": {}}}
        d["paths"]["/api/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
            "$ref": "#/components/schemas/N0"}
    r = run("check", "--openapi", write(tmp_path, mutated(fn)), FLOWS)
    assert r.exit_code in (0, 1), r.output


# ---------------------------------------------------------------- unreadable descriptions: exit 2


@pytest.mark.parametrize("content, message", [
    (b"\x00\x01\x02\xff", "not UTF-8"),
    (b"openapi: [unclosed", "api.yaml:2:1: did not find expected"),
    (b"swagger: '2.0'\npaths: {}\n", "Swagger 2.0"),
    (b"title: not an api\n", "not an OpenAPI 3 description"),
    (b"- a list\n", "not a mapping"),
    (b"[" * 100_000, "not valid JSON"),
    (b"openapi: 3.1.0\npaths: !!python/object:os.system {}\n", "tag"),
])
def test_unreadable_description_exits_2(tmp_path, content, message):
    p = tmp_path / "api.yaml"
    p.write_bytes(content)
    r = run("check", "--openapi", str(p), FLOWS)
    assert r.exit_code == 2, r.output
    assert "unreadable OpenAPI description" in r.stderr and message in r.stderr, r.stderr
    assert "Traceback" not in r.output


def test_missing_file_and_other_schemes_exit_2(tmp_path):
    r = run("check", "--openapi", str(tmp_path / "nope.yaml"), FLOWS)
    assert r.exit_code == 2 and "cannot read" in r.stderr
    r = run("check", "--openapi", f"file://{SPEC}", FLOWS)
    assert r.exit_code == 2 and "only http(s) URLs and files" in r.stderr


def test_nothing_to_check_is_a_usage_error():
    r = run("check", FLOWS)
    assert r.exit_code == 2 and "--openapi" in r.output


# ---------------------------------------------------------------- URLs: 127.0.0.1 only


def _serve(body: bytes, status: int = 200, headers=()):
    return lambda seen: (status, list(headers), body)


def test_description_from_a_url(tmp_path):
    with HostileServer({("GET", "/openapi.yaml"): _serve(SPEC.read_bytes(), headers=[("Content-Type", "application/yaml")])}) as srv:
        r = run("check", "--openapi", srv.url + "/openapi.yaml", FLOWS)
        assert r.exit_code == 0, r.output
        assert [s.path for s in srv.requests] == ["/openapi.yaml"]


def test_url_redirect_is_not_followed():
    routes = {("GET", "/api.yaml"): _serve(b"", 302, [("Location", "http://description.invalid/api.yaml")])}
    with HostileServer(routes) as srv:
        r = run("check", "--openapi", srv.url + "/api.yaml", FLOWS)
        assert r.exit_code == 2, r.output
        assert "redirects to http://description.invalid/api.yaml" in r.stderr
        assert len(srv.requests) == 1


def test_url_error_status_and_unreachable_exit_2():
    with HostileServer({}) as srv:
        r = run("check", "--openapi", srv.url + "/missing.yaml", FLOWS)
        assert r.exit_code == 2 and "answered 404" in r.stderr
        url = srv.url
    r = run("check", "--openapi", url + "/gone.yaml", FLOWS)  # the server is closed now
    assert r.exit_code == 2 and "cannot fetch" in r.stderr


def test_url_remote_refs_are_never_fetched():
    doc = mutated(lambda d: d["components"]["schemas"].update(
        TokenResponse={"$ref": "/other.yaml#/TokenResponse"}))
    with HostileServer({("GET", "/api.yaml"): _serve(yaml.safe_dump(doc).encode()),
                        ("GET", "/other.yaml"): _serve(b"TokenResponse: {}")}) as srv:
        r = run("check", "--openapi", srv.url + "/api.yaml", FLOWS)
        assert r.exit_code == 0, r.output
        assert [s.path for s in srv.requests] == ["/api.yaml"]


def test_url_body_is_capped(monkeypatch):
    import flowdoc.interop.openapi as mod

    monkeypatch.setattr(mod, "MAX_BYTES", 64 * 1024)
    with HostileServer({("GET", "/big.yaml"): _serve(b"#" * (256 * 1024))}) as srv:
        r = run("check", "--openapi", srv.url + "/big.yaml", FLOWS)
    assert r.exit_code == 2 and "sends more than" in r.stderr


def test_lookup_handles_escaped_pointers():
    desc = Description("x", {"paths": {"/a/{b}": {"get": 1}}, "c": [{"d~e": 2}]})
    assert desc.lookup("#/paths/~1a~1%7Bb%7D/get") == 1
    assert desc.lookup("#/c/0/d~0e") == 2
    assert desc.lookup("#/c/5") is None
