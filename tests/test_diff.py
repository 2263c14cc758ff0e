"""flowdoc diff: the change table (old, new, expected ids and levels), formats, git revisions, errors."""

from __future__ import annotations

import ast
import copy
import inspect
import json
from typing import Any

import pytest

from flowdoc.check import check_graph, run_lint
from flowdoc.diff import CHANGE_KINDS, Change, compare, diff_flows, engine, exchange, required_bump
from flowdoc.diff.changes import KINDS, change
from flowdoc.load import read_flow_text
from tests.helpers import run
from tests.flowkit import (
    A,
    A_REQUEST,
    A_RESPONSE,
    D,
    DEMO,
    DEPRECATED,
    JWT,
    LC,
    NEW_ACTION_STEP,
    RESP,
    TOK,
    Edit,
    S,
    T,
    build,
    to_yaml,
)

def row(name: str, new: list[Edit], expect: list[str], old: list[Edit] = ()):
    """expect: 'change-id:level' strings, one per expected change."""
    return pytest.param(list(old), new, expect, id=name)




ROWS = [
    # ---- no change
    row("unchanged", [], []),
    row("version-updated-changelog-ignored",
        [S("version", "1.1.0"), S("updated", "2026-02-01"), A("changelog", {"version": "1.1.0", "notes": "x"})], []),
    row("rewrapped-text-is-no-change", [S("summary", "A   test\nflow.")], []),
    row("header-case-is-no-change", [D(f"{T}/authorize/request/headers/Accept"),
                                     S(f"{T}/authorize/request/headers/accept", "text/html")], []),
    row("same-value-other-spelling", [S(f"{T}/authorize/request/query/max_age", "60"),
                                      S(f"{LC}/tokens/access_token/ttl", "60m")], [],
        old=[S(f"{T}/authorize/request/query/max_age", 60)]),
    # ---- the flow
    row("flow-id", [S("id", "demo2")], ["flow-id-changed:breaking"]),
    row("deprecated", [S("status", "deprecated"), S("deprecation", DEPRECATED)], ["flow-deprecated:warning"]),
    row("undeprecated", [], ["flow-undeprecated:info"], old=[S("status", "deprecated"), S("deprecation", DEPRECATED)]),
    row("status-draft", [S("status", "draft")], ["flow-status-changed:info"]),
    row("sunset-earlier",
        [S("status", "deprecated"), S("deprecation", {**DEPRECATED, "sunset": "2026-06-01"})],
        ["sunset-brought-forward:warning"],
        old=[S("status", "deprecated"), S("deprecation", {**DEPRECATED, "sunset": "2027-01-01"})]),
    row("sunset-later",
        [S("status", "deprecated"), S("deprecation", {**DEPRECATED, "sunset": "2027-06-01"})],
        ["sunset-postponed:info"],
        old=[S("status", "deprecated"), S("deprecation", {**DEPRECATED, "sunset": "2027-01-01"})]),
    row("migration-link", [S("status", "deprecated"), S("deprecation", {**DEPRECATED, "migration": "See v2."})],
        ["replacement-changed:info"], old=[S("status", "deprecated"), S("deprecation", DEPRECATED)]),
    row("title", [S("title", "Sign in")], ["text-changed:info"]),
    row("tags", [S("tags", ["oauth2", "oidc"])], ["metadata-changed:info"]),
    # ---- actors
    row("actor-added", [S("actors/gw", {"name": "Gateway", "kind": "gateway"})], ["actor-added:info"]),
    row("actor-removed", [D("actors/api")], ["actor-removed:warning"]),
    row("actor-kind", [S("actors/api/kind", "service")], ["actor-kind-changed:info"]),
    row("actor-base-url", [S("actors/auth/base_url", "https://login.example.com")], ["actor-base-url-changed:warning"]),
    # ---- inputs
    row("input-required", [S("inputs/audience", {"description": "API audience"}),
                           S(f"{TOK}/request/form/audience", "${inputs.audience}")],
        ["input-required-added:breaking", "param-required-added:breaking"]),
    row("input-for-testers", [S("inputs/locked_user", {"description": "A locked test account"}),
                              S(f"{TOK}/failures/bad_client/provoke/inputs/client_secret", "${inputs.locked_user}")],
        ["test-input-added:info", "provoke-changed:info"]),
    row("input-unused", [S("inputs/spare", {"description": "Not used yet"})], ["test-input-added:info"]),
    row("input-optional", [S("inputs/prompt", {"default": "login"})], ["input-optional-added:info"]),
    row("input-removed", [D("inputs/api")], ["input-removed:info"]),
    row("input-lost-default", [D("inputs/scope/default")], ["input-became-required:breaking"]),
    row("input-default", [S("inputs/scope/default", "api:write")], ["input-default-changed:warning"]),
    row("input-env", [S("inputs/client_id/env", "DEMO_CLIENT")], ["input-changed:info"]),
    # ---- generated values
    row("generator-added", [S("generate/nonce", {"kind": "random"})], ["generator-added:warning"]),
    row("generator-removed", [D("generate/state")], ["generator-removed:info"]),
    row("pkce-plain", [S("generate/pkce/method", "plain")], ["generator-changed:warning"]),
    # ---- requirements
    row("requirement-added", [S("requires", {"signin": {"flow": "login"}})], ["requirement-added:breaking"]),
    row("requirement-removed", [], ["requirement-removed:info"], old=[S("requires", {"signin": {"flow": "login"}})]),
    row("requirement-flow", [S("requires", {"signin": {"flow": "sso"}})], ["requirement-changed:warning"],
        old=[S("requires", {"signin": {"flow": "login"}})]),
    # ---- states
    row("state-added", [A("states", {"id": "extra", "terminal": True})], ["state-added:info"]),
    row("state-removed", [D("states/rejected")], ["state-removed:warning"]),
    row("initial-state", [S("states/start/initial", False), S("states/authorized/initial", True)],
        ["initial-state-changed:breaking"]),
    row("state-no-longer-failure", [S("states/rejected/failure", False)], ["state-kind-changed:warning"]),
    # ---- transitions
    row("transition-added", [A(T, NEW_ACTION_STEP)], ["transition-added:warning"]),
    row("transition-removed", [D(f"{T}/retry_login")], ["transition-removed:breaking"]),
    row("happy-path-action-added", [S("paths/main/steps", ["authorize", "retry_login", "authorize", "token", "userinfo"])],
        ["happy-path-action-added:info", "path-changed:info"]),
    row("happy-path-step-added", [D(f"{T}/retry_login/action"), S(f"{T}/retry_login/request", A_REQUEST),
                                  S(f"{T}/retry_login/response", A_RESPONSE),
                                  S("paths/main/steps", ["authorize", "retry_login", "authorize", "token", "userinfo"])],
        ["happy-path-step-added:breaking", "request-added:breaking", "text-changed:info", "path-changed:info"]),
    row("new-step-on-happy-path", [A(T, NEW_ACTION_STEP), S("paths/main/steps", ["authorize", "cancel"])],
        ["happy-path-action-added:info", "happy-path-step-removed:warning", "happy-path-step-removed:warning",
         "path-changed:info"]),
    row("happy-path-step-removed", [S("paths/main/steps", ["authorize", "token"])],
        ["happy-path-step-removed:warning", "path-changed:info"]),
    row("transition-to", [S(f"{T}/retry_login/to", "rejected")], ["transition-states-changed:warning"]),
    row("transition-by", [S(f"{TOK}/by", "client -> api")], ["transition-actors-changed:breaking"]),
    row("guard-added", [S(f"{T}/authorize/guard", "the user is signed out")], ["guard-added:warning"]),
    row("guard-removed", [D(f"{TOK}/guard")], ["guard-removed:info"]),
    row("guard-changed", [S(f"{TOK}/guard", {"text": "the state matches", "expr": "true"})], ["guard-changed:warning"]),
    row("transition-wait", [S(f"{TOK}/wait", 5)], ["transition-options-changed:info"]),
    row("request-added", [D(f"{T}/retry_login/action"), S(f"{T}/retry_login/request", A_REQUEST),
                          S(f"{T}/retry_login/response", A_RESPONSE)],
        ["request-added:breaking", "text-changed:info"]),
    row("request-removed", [], ["request-removed:breaking", "text-changed:info"],
        old=[D(f"{T}/retry_login/action"), S(f"{T}/retry_login/request", A_REQUEST),
             S(f"{T}/retry_login/response", A_RESPONSE)]),
    # ---- requests
    row("method", [S(f"{TOK}/request/method", "PUT")], ["endpoint-method-changed:breaking"]),
    row("path", [S(f"{TOK}/request/path", "/oauth2/token")], ["endpoint-path-changed:breaking"]),
    row("url", [S(f"{T}/authorize/request/url", "${inputs.issuer}/authorize")], ["request-url-changed:warning"]),
    row("client-auth", [S(f"{TOK}/request/auth", "client_secret_post")], ["client-auth-changed:breaking"]),
    row("bearer-token", [S(f"{T}/userinfo/request/token", "${steps.authorize.code}")], ["bearer-token-changed:warning"]),
    row("param-added", [S(f"{TOK}/request/form/resource", "https://api.example.com")], ["param-required-added:breaking"]),
    row("header-added", [S(f"{T}/authorize/request/headers/DPoP", "proof")], ["param-required-added:breaking"]),
    row("param-removed", [D(f"{T}/authorize/request/query/code_challenge")], ["param-removed:warning"]),
    row("param-value", [S(f"{T}/authorize/request/query/response_type", "token")], ["param-value-changed:breaking"]),
    row("param-moved", [D(f"{TOK}/request/form/code_verifier"), S(f"{TOK}/request/query", {"code_verifier": "${pkce.verifier}"})],
        ["param-location-changed:breaking"]),
    row("request-timeout", [S(f"{TOK}/request/timeout", 10)], ["request-options-changed:info"]),
    # ---- responses
    row("status", [S(f"{RESP}/status", 201)], ["status-changed:breaking"]),
    row("failure-status", [S(f"{TOK}/failures/bad_client/response/status", 400)], ["status-changed:breaking"]),
    row("failure-timeout", [S(f"{TOK}/failures/bad_client/response", {"outcome": "timeout"})],
        ["status-changed:breaking", "error-code-changed:breaking"]),
    row("error-code", [S(f"{TOK}/failures/bad_client/response/error", "unauthorized_client")],
        ["error-code-changed:breaking"]),
    row("response-error", [S(f"{T}/userinfo/response/error", "insufficient_scope")], ["error-code-changed:breaking"]),
    row("field-removed", [S(f"{RESP}/fields", ["access_token", "expires_in"])], ["response-field-removed:breaking"]),
    row("field-added", [S(f"{RESP}/fields", ["access_token", "id_token", "expires_in", "scope"])],
        ["response-field-added:info"]),
    row("redirect-param-removed", [D(f"{T}/authorize/response/redirect/query/state")], ["response-field-removed:breaking"]),
    row("response-header-added", [S(f"{RESP}/headers/Pragma", "no-cache")], ["response-field-added:info"]),
    row("body-value", [S(f"{RESP}/body/token_type", "DPoP")], ["response-value-changed:breaking"]),
    row("redirect-param-value", [S(f"{T}/authorize/response/redirect/query/state", "fixed")],
        ["response-value-changed:breaking"]),
    row("content-type", [S(f"{RESP}/content_type", "application/jwt")], ["content-type-changed:breaking"]),
    row("redirect-to", [S(f"{T}/authorize/response/redirect/to", "https://other.example.com/cb")],
        ["redirect-changed:breaking"]),
    row("capture-added", [S(f"{RESP}/capture/expires_in", "body.expires_in")], ["capture-added:info"]),
    row("capture-removed", [D(f"{RESP}/capture/access_token")], ["capture-removed:breaking"]),
    row("capture-source", [S(f"{T}/authorize/response/capture/code", "location.query.authorization_code")],
        ["capture-source-changed:warning"]),
    # ---- JWT checks
    row("jwt-check-added", [A(f"{RESP}/jwt", {"token": "body.access_token"})], ["jwt-check-added:warning"]),
    row("jwt-check-removed", [S(f"{RESP}/jwt", [])], ["jwt-check-removed:info"]),
    row("jwt-required-added", [S(f"{JWT}/required", ["sub", "exp", "auth_time"])], ["jwt-claim-required-added:warning"]),
    row("jwt-required-removed", [S(f"{JWT}/required", ["sub"])], ["jwt-claim-required-removed:breaking"]),
    row("jwt-claim-added", [S(f"{JWT}/claims/amr", "pwd")], ["jwt-claim-added:warning"]),
    row("jwt-claim-changed", [S(f"{JWT}/claims/acr", "2")], ["jwt-claim-changed:breaking"]),
    row("jwt-claim-dropped", [S(f"{JWT}/claims", {})], ["jwt-claim-changed:breaking"]),
    row("jwt-iss", [S(f"{JWT}/iss", "https://other.example.com")], ["jwt-iss-changed:breaking"]),
    row("jwt-aud", [S(f"{JWT}/aud", "api")], ["jwt-aud-changed:breaking"]),
    row("jwt-nonce-removed", [D(f"{JWT}/nonce")], ["jwt-nonce-changed:warning"]),
    row("jwt-exp", [S(f"{JWT}/exp", False)], ["jwt-options-changed:warning"]),
    # ---- failures
    row("failure-added", [A(f"{TOK}/failures", {"id": "slow", "when": "too many requests", "remedy": "Wait.",
                                                 "response": {"status": 429, "error": "slow_down"}})],
        ["failure-branch-added:warning"]),
    row("failure-removed", [D(f"{TOK}/failures/code_reused")], ["failure-branch-removed:info"]),
    row("failure-renamed", [S(f"{TOK}/failures/code_reused/id", "code_replayed")], ["text-changed:info"]),
    row("failure-target", [S(f"{TOK}/failures/bad_client/to", "authorized")], ["failure-target-changed:warning"]),
    row("failure-moved", [S(f"{T}/authorize/failures/bad_redirect/through", ["token"]),
                          S(f"{T}/authorize/failures/bad_redirect/response/status", 401)],
        ["failure-moved:warning"]),
    row("failure-retry", [S(f"{TOK}/failures/bad_client/retry", True)], ["failure-retry-changed:warning"]),
    row("failure-provoke", [S(f"{TOK}/failures/bad_client/provoke/inputs/client_secret", "other")],
        ["provoke-changed:info"]),
    row("failure-remedy", [S(f"{TOK}/failures/bad_client/remedy", "Check the secret.")], ["text-changed:info"]),
    # ---- paths
    row("path-added", [A("paths", {"id": "short", "steps": ["authorize"]})], ["path-added:info"]),
    row("path-removed", [D("paths/again")], ["path-removed:info"]),
    row("path-steps", [S("paths/again/steps", ["authorize", "retry_login", "authorize"])], ["path-changed:info"]),
    # ---- lifecycle
    row("token-added", [S(f"{LC}/tokens/id_token", {"ttl": "1h"})], ["token-added:info"]),
    row("token-removed", [D(f"{LC}/tokens/authorization_code")], ["token-removed:warning"]),
    row("ttl-shortened", [S(f"{LC}/tokens/access_token/ttl", "10m")], ["ttl-shortened:warning"]),
    row("ttl-lengthened", [S(f"{LC}/tokens/access_token/ttl", "2h")], ["ttl-lengthened:info"]),
    row("ttl-undocumented", [D(f"{LC}/tokens/refresh_token/ttl")], ["ttl-changed:info"]),
    row("idle-ttl-documented", [S(f"{LC}/tokens/refresh_token/idle_ttl", "1d")], ["ttl-changed:info"]),
    row("idle-ttl-shortened", [S(f"{LC}/tokens/refresh_token/idle_ttl", "1d")], ["ttl-shortened:warning"],
        old=[S(f"{LC}/tokens/refresh_token/idle_ttl", "7d")]),
    row("token-format", [S(f"{LC}/tokens/access_token/format", "opaque")], ["token-format-changed:breaking"]),
    row("rotation-enabled", [S(f"{LC}/tokens/refresh_token/rotates", True)], ["rotation-enabled:breaking"]),
    row("single-use", [S(f"{LC}/tokens/authorization_code/single_use", True)], ["rotation-enabled:breaking"]),
    row("rotation-rule", [S(f"{LC}/tokens/refresh_token/rotation", "Rotated weekly.")], ["rotation-changed:warning"]),
    row("rotation-disabled", [], ["rotation-changed:warning"], old=[S(f"{LC}/tokens/refresh_token/rotates", True)]),
    row("storage-changed", [S(f"{LC}/storage/web", "localStorage.")], ["storage-changed:warning"]),
    row("storage-removed", [D(f"{LC}/storage/ios")], ["storage-changed:warning"]),
    row("storage-added", [S(f"{LC}/storage/android", "Keystore.")], ["storage-added:info"]),
    row("reauth-added", [A(f"{LC}/reauthenticate", "the password changed")], ["reauth-condition-added:warning"]),
    row("reauth-removed", [S(f"{LC}/reauthenticate", [])], ["reauth-condition-removed:info"]),
    row("caching", [A(f"{LC}/caching", "Refresh 60 s before exp.")], ["caching-changed:info"]),
    row("revocation", [S(f"{LC}/tokens/access_token/revocation", "POST /revoke")], ["lifecycle-changed:info"]),
    row("refresh-ahead", [S(f"{LC}/tokens/access_token/refresh_ahead", "2m")], ["lifecycle-changed:info"]),
    row("troubleshooting", [A("troubleshooting", {"error": "invalid_client", "cause": "c", "remedy": "r"})],
        ["troubleshooting-changed:info"]),
]


@pytest.mark.parametrize("old_edits,new_edits,expected", ROWS)
def test_change_table(old_edits, new_edits, expected):
    old, new = build(old_edits), build(new_edits)
    changes = diff_flows(old, new)
    got = sorted(f"{c.id}:{c.level}" for c in changes)
    assert got == sorted(expected), "\n".join(c.message for c in changes)
    for c in changes:
        assert c.message and c.why and isinstance(c.path, tuple) and c.path
        assert json.dumps(c.to_dict())


def test_table_covers_every_change_kind():
    covered = {e.split(":")[0] for p in ROWS for e in p.values[2]}
    assert covered == set(CHANGE_KINDS), sorted(set(CHANGE_KINDS) - covered)


def test_table_levels_are_the_kinds_levels():
    for p in ROWS:
        for e in p.values[2]:
            cid, level = e.split(":")
            assert CHANGE_KINDS[cid].level == level, e


def test_base_flow_is_valid_and_lint_clean():
    flow, diags = read_flow_text(to_yaml(DEMO), "base.yaml")
    assert flow is not None
    check_graph(flow, diags)
    run_lint(flow, diags)
    assert [d.message for d in diags.items if d.severity == "error"] == []


def test_every_kind_has_docs():
    assert list(CHANGE_KINDS.values()) == list(KINDS)
    for cid, kind in CHANGE_KINDS.items():
        assert kind.id == cid and kind.level in ("breaking", "warning", "info")
        assert kind.summary.endswith(".") and kind.why.endswith(".") and kind.template


def _kind_ids_named_in(module) -> set[str]:
    """The change ids a module of the engine names: the first argument of add/changed/options, what a
    variable ``kind`` is set to, and the ``kind`` column of the tables a loop reads it from."""
    tree = ast.parse(inspect.getsource(module))
    tables = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
              if isinstance(t, ast.Name)}
    found: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args \
                and node.func.attr in ("add", "changed", "options"):
            found.append(node.args[0])
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "kind" for t in node.targets):
            found.append(node.value)
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Tuple) and isinstance(node.iter, ast.Name):
            names = [getattr(e, "id", None) for e in node.target.elts]
            if "kind" in names and node.iter.id in tables:
                found += [row.elts[names.index("kind")] for row in tables[node.iter.id].elts]
    return {c.value for f in found for c in ast.walk(f) if isinstance(c, ast.Constant) and isinstance(c.value, str)}


def test_engine_names_every_kind_and_only_known_ones():
    """The engine names kinds by id: a mistyped id, or a kind no comparison reports, is caught here."""
    named = set().union(*(_kind_ids_named_in(m) for m in (compare, engine, exchange)))
    assert sorted(named - set(CHANGE_KINDS)) == []
    assert sorted(set(CHANGE_KINDS) - named) == []


def test_unknown_kind_id_is_an_error():
    with pytest.raises(KeyError, match="no-such-change"):
        change("no-such-change", ("x",))


# ------------------------------------------------------------ public API


def test_change_api_shape():
    changes = diff_flows(build([]), build([S(f"{TOK}/request/method", "PUT")]))
    (c,) = changes
    assert isinstance(c, Change)
    assert (c.id, c.level) == ("endpoint-method-changed", "breaking")
    assert c.path == ("transitions", "token", "request", "method")
    assert "from 'POST' to 'PUT'" in c.message
    d = c.to_dict()
    assert d["id"] == c.id and d["level"] == c.level and d["message"] == c.message
    assert d["path"] == list(c.path) and d["old"] == "POST" and d["new"] == "PUT"
    assert c.explain().startswith(c.message) and c.why in c.explain()


@pytest.mark.parametrize(
    "edits,bump",
    [
        ([], None),
        ([S("title", "Other")], "patch"),
        ([S(f"{RESP}/capture/expires_in", "body.expires_in")], "minor"),  # an addition
        ([S(f"{LC}/tokens/access_token/ttl", "10m")], "minor"),  # a warning
        ([S(f"{TOK}/request/method", "PUT"), S("title", "Other")], "major"),
    ],
)
def test_required_bump(edits, bump):
    assert required_bump(diff_flows(build([]), build(edits))) == bump


def test_messages_name_values():
    (c,) = diff_flows(build([]), build([S(f"{LC}/tokens/access_token/ttl", "10m")]))
    assert c.message == "token 'access_token': lifetime (ttl) shortened from 1h to 10m"
    (c,) = diff_flows(build([]), build([S(f"{T}/authorize/request/query/response_type", "token")]))
    assert "query parameter 'response_type' changed from 'code' to 'token'" in c.message


def test_secret_input_defaults_are_not_shown():
    old = build([S("inputs/client_secret/default", "hunter2")])
    new = build([S("inputs/client_secret/default", "correct-horse")])
    (c,) = diff_flows(old, new)
    assert "hunter2" not in c.message and "correct-horse" not in json.dumps(c.to_dict())


def test_document_order():
    changes = diff_flows(build([]), build([S(f"{LC}/tokens/access_token/ttl", "10m"), S("title", "T"),
                                           S(f"{TOK}/request/method", "PUT")]))
    assert [c.id for c in changes] == ["text-changed", "endpoint-method-changed", "ttl-shortened"]


# --------------------------------------------------------- the example flows


def test_example_v1_to_v2_names_the_breaking_changes():
    import flowdoc

    old = flowdoc.load_flow("flows/authorization-code-pkce.v1.yaml")
    new = flowdoc.load_flow("flows/authorization-code-pkce.yaml")
    assert (old.id, old.version.split(".")[0], old.status.value) == (new.id, "1", "deprecated")
    changes = diff_flows(old, new)
    ids = {(c.id, c.where) for c in changes if c.level == "breaking"}
    assert ("param-value-changed", "transitions.start.request.query.response_type") in ids
    assert ("param-required-added", "transitions.start.request.query.code_challenge") in ids
    assert ("transition-removed", "transitions.return_tokens") in ids
    assert ("happy-path-step-added", "transitions.exchange_code") in ids
    assert required_bump(changes) == "major"


def test_example_client_credentials_minor():
    import flowdoc

    old = flowdoc.load_flow("flows/client-credentials.v1.0.yaml")
    new = flowdoc.load_flow("flows/client-credentials.yaml")
    changes = diff_flows(old, new)
    ids = {c.id for c in changes}
    assert {"ttl-shortened", "failure-branch-added"} <= ids
    assert required_bump(changes) == "minor"


def test_examples_lint_clean():
    r = run("lint", "flows")
    assert r.exit_code == 0, r.output


# ------------------------------------------------------------ completeness

_NOT_COMPARED = {"version", "updated", "changelog"}  # they describe the change itself (flowdoc check)


def _leaves(d: Any, path: tuple = ()):
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield from _leaves(v, path + (i,))
    else:
        yield path, d


def _perturb(v: Any) -> Any:
    if isinstance(v, bool):
        return not v
    if isinstance(v, int):
        return v + 1
    if v is None:
        return "set"
    return f"{v}x" if not str(v).endswith("s") else f"{v[:-1]}0s"  # keep durations durations


def test_every_leaf_value_is_compared():
    """Changing any value the author wrote (but version, updated, changelog) is a change."""
    silent, tried = [], 0
    for path, value in _leaves(DEMO):
        if path[0] in _NOT_COMPARED:
            continue
        data = copy.deepcopy(DEMO)
        target = data
        for p in path[:-1]:
            target = target[p]
        target[path[-1]] = _perturb(value)
        new, _ = read_flow_text(to_yaml(data), "p.yaml")
        if new is None:
            continue  # the perturbed value is not valid there (an enum, a method ...)
        tried += 1
        if not diff_flows(build([]), new):
            silent.append(path)
    assert tried > 100
    assert silent == []
