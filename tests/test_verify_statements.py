"""What verify now checks beyond status and fields, against small real HTTP servers on 127.0.0.1:
a failure answered like the success, every attempt of a lockout, a failure that runs on through
later steps, key parameters of a request built from an earlier URL, token lifetimes, formats and
rotation; and the hostile inputs of these checks."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

from flowdoc.verify import Verifier, VerifyOptions, load_flows
from flowdoc.verify._forms import parse_page
from flowdoc.verify._lifecycle import jwt_claims, tolerance
from tests.support.hangguard import run_guarded
from tests.support.hostile_http import HostileServer

HEAD = """id: probe
title: A flow for the statement checks
version: "1.0.0"
actors:
  client: {name: Client, kind: client}
  api: {name: API, kind: resource-server, base_url: "${inputs.api}"}
inputs:
  api: {description: Base URL}
  token_ttl: {description: Lifetime on the server under test, default: 3600}
"""
STATES = """states:
  - {id: start, initial: true}
  - {id: done, terminal: true}
  - {id: rejected, terminal: true, failure: true}
transitions:
"""
STATES_MIDDLE = STATES.replace("  - {id: done,", "  - {id: middle}\n  - {id: done,")


def run(tmp_path: Path, body: str, routes: dict, extra_inputs: dict | None = None, **opts):
    path = tmp_path / f"probe-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(HEAD + body)
    with HostileServer(routes) as srv, \
            Verifier(VerifyOptions(inputs={"api": srv.url, **(extra_inputs or {})}, **opts)) as v:
        result = v.run(load_flows([path]))
        return result, {s.name: s for s in result.scenarios}, list(srv.requests)


def jwt(claims: dict) -> str:
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{enc({'alg': 'RS256', 'typ': 'JWT'})}.{enc(claims)}.c2lnbmF0dXJl"


def text(res) -> str:
    f = res.failure
    return "\n".join([f.message] + [f"{c.what}: expected {c.expected}, got {c.actual}" for c in f.checks])


# ------------------------------------------------------------------ failure branches


def test_a_failure_answered_like_the_success_proves_nothing(tmp_path):
    """The branch documents a 303 to /app/denied, the success a 303 under /app/ (valid: the targets
    differ as written), and the server's 303 to /app/denied satisfies both with no error code."""
    body = STATES + """  - id: consent
    from: start
    to: done
    by: client -> api
    title: Give consent
    request: {method: POST, path: /consent, form: {decision: approve}}
    response: {status: 303, redirect: {to: /app/}}
    failures:
      - id: denied
        when: the user denies
        provoke: {request: {form: {decision: deny}}}
        response: {status: 303, redirect: {to: /app/denied}}
        to: rejected
        remedy: Ask again.
"""
    routes = {("POST", "/consent"): lambda seen: (303, [("Location", "/app/denied")], b"")}
    result, by, _ = run(tmp_path, body, routes)
    assert by["happy-path"].status == "passed"
    denied = by["denied"]
    assert result.exit_code == 1 and denied.status == "failed"
    assert denied.failure.step == "consent"
    assert "the answer is also the documented success of 'consent'" in denied.failure.message
    # the same branch, when the server does tell it apart (an error code in the Location): proven
    routes = {("POST", "/consent"): lambda seen: (303, [("Location", "/app/denied?error=access_denied"
                                                         if b"deny" in seen.body else "/app/")], b"")}
    result, by, _ = run(tmp_path, body, routes)
    assert result.exit_code == 0, by["denied"].failure


ATTEMPTS = STATES + """  - id: login
    from: start
    to: done
    by: client -> api
    title: Submit the one-time code
    request: {method: POST, path: /otp, form: {otp: "123456"}}
    response: {status: 200}
    failures:
      - id: wrong
        when: the code is wrong
        provoke: {request: {form: {otp: "000000"}}}
        response: {status: 401, error: invalid_otp}
        to: start
        remedy: Try again.
      - id: locked
        when: three wrong codes in a row
        provoke: {request: {form: {otp: "000000"}}, attempts: ATTEMPTS}
        response: {status: 403, error: locked}
        to: rejected
        remedy: Wait.
"""


def lockout_after(n: int):
    seen: list[int] = []

    def otp(req):
        if b"123456" in req.body:
            return 200, [], b"ok"
        seen.append(1)
        if len(seen) % 100 >= n:
            return 403, [("Content-Type", "application/json")], b'{"error": "locked"}'
        return 401, [("Content-Type", "application/json")], b'{"error": "invalid_otp"}'

    return {("POST", "/otp"): otp}


def test_every_attempt_of_a_lockout_is_checked(tmp_path):
    result, by, _ = run(tmp_path, ATTEMPTS.replace("ATTEMPTS", "3"), lockout_after(3), scenarios=["locked"])
    assert result.exit_code == 0, by["locked"].failure
    assert [s.status for s in by["locked"].steps] == [401, 401, 403]
    # documented after 4 attempts, when it happens after 3: the third already answers 403
    result, by, _ = run(tmp_path, ATTEMPTS.replace("ATTEMPTS", "4"), lockout_after(3), scenarios=["locked"])
    f = by["locked"].failure
    assert result.exit_code == 1 and f.role == "attempt 3/4"
    assert "attempt 3 of 4 was not answered as 'wrong' documents (HTTP 401 invalid_otp)" in f.message


def test_attempts_without_a_branch_for_the_first_ones_must_not_answer_early(tmp_path):
    body = ATTEMPTS.replace("ATTEMPTS", "4").replace("provoke: {request: {form: {otp: \"000000\"}}}\n",
                                                       "provoke: {request: {form: {otp: \"111111\"}}}\n")
    result, by, _ = run(tmp_path, body, lockout_after(3), scenarios=["locked"])
    f = by["locked"].failure
    assert result.exit_code == 1 and f.role == "attempt 3/4"
    assert "attempt 3 of 4 already answered as 'locked' documents the last one" in f.message


THROUGH = STATES_MIDDLE + """  - id: deny
    from: start
    to: middle
    by: client -> api
    title: Answer the consent form
    request: {method: POST, path: /consent, form: {decision: approve}}
    response: {status: 303, redirect: {to: /resume}, capture: {next: {from: location, secret: false}}}
    failures:
      - id: denied
        when: the user denies
        provoke: {request: {form: {decision: deny}}}
        through: [resume]
        response: {status: 302, error: access_denied}
        to: rejected
        remedy: Ask again.
  - id: resume
    from: middle
    to: done
    by: client -> api
    title: Resume; the redirect carries the code
    request: {method: GET, path: /resume, url: "${steps.deny.next}"}
    response: {status: 302, redirect: {query: {code: null}}}
"""


def test_a_failure_runs_on_through_later_steps_to_where_it_shows(tmp_path):
    state = {"denied": False}

    def consent(req):
        state["denied"] = b"deny" in req.body
        return 303, [("Location", "/resume")], b""

    def resume(req):
        loc = "https://app.invalid/cb?error=access_denied" if state["denied"] else "https://app.invalid/cb?code=c0de"
        return 302, [("Location", loc)], b""

    result, by, sent = run(tmp_path, THROUGH, {("POST", "/consent"): consent, ("GET", "/resume"): resume})
    assert result.exit_code == 0, by["denied"].failure
    assert [(r.role, r.transition, r.status) for r in by["denied"].steps] == [
        ("provoke", "deny", 303), ("ends here (after deny)", "resume", 302)]
    # a server that never shows the error: the branch fails where it ends, naming the difference
    state_fixed = {("POST", "/consent"): lambda req: (303, [("Location", "/resume")], b""),
                   ("GET", "/resume"): lambda req: (302, [("Location", "https://app.invalid/cb?code=c0de")], b"")}
    result, by, _ = run(tmp_path, THROUGH, state_fixed, scenarios=["denied"])
    f = by["denied"].failure
    assert result.exit_code == 1 and f.step == "resume" and f.checks[0].what == "error"


def test_key_parameters_of_a_request_built_from_an_earlier_url_are_sent(tmp_path):
    body = STATES_MIDDLE.replace("  - {id: rejected, terminal: true, failure: true}\n", "") + """  - id: open
    from: start
    to: middle
    by: client -> api
    title: Open the login
    request: {method: GET, path: /open}
    response: {status: 302, capture: {next: {from: location, secret: false}}}
  - id: authorize
    from: middle
    to: done
    by: client -> api
    title: Follow the redirect to the authorization endpoint
    request: {method: GET, path: /auth, url: "${steps.open.next}", key_params: [client_id, state, prompt]}
    response: {status: 200}
"""
    routes = {("GET", "/open"): lambda seen: (302, [("Location", "/auth?client_id=a&state=s")], b""),
              ("GET", "/auth"): lambda seen: (200, [], b"ok")}
    result, by, sent = run(tmp_path, body, routes)
    f = by["happy-path"].failure
    assert result.exit_code == 1 and f.step == "authorize"
    assert [(c.what, c.actual) for c in f.checks] == [("key parameter prompt", "not sent")]
    assert [s.path for s in sent] == ["/open"]  # refused before it is sent


# ------------------------------------------------------------------ lifecycle


TOKEN = STATES.replace("  - {id: rejected, terminal: true, failure: true}\n", "") + """  - id: token
    from: start
    to: done
    by: client -> api
    title: Redeem the refresh token for a new pair
    request: {method: POST, path: /token, form: {grant_type: refresh_token, refresh_token: old-refresh-token-0123}}
    response: {status: 200, fields: [access_token, refresh_token, expires_in]}
lifecycle:
  tokens:
    access_token: {format: jwt, ttl: 1h, ttl_input: token_ttl}
    refresh_token: {format: opaque, ttl: 14d, rotates: true}
"""


def token_route(expires_in=3600, lifetime=3600, refresh="new-refresh-token-4567", access=None):
    now = int(time.time())
    access = access or jwt({"iat": now, "exp": now + lifetime, "sub": "x"})
    body = json.dumps({"access_token": access, "refresh_token": refresh, "expires_in": expires_in}).encode()
    return {("POST", "/token"): lambda seen: (200, [("Content-Type", "application/json")], body)}


def checks_of(res) -> list[tuple[str, str, str]]:
    return [(c.what, c.expected, c.actual) for c in res.failure.checks] if res.failure else []


def test_lifetime_format_and_rotation_are_checked(tmp_path):
    result, by, _ = run(tmp_path, TOKEN, token_route())
    assert result.exit_code == 0, checks_of(by["happy-path"])
    proven = set(by["happy-path"].proven)
    assert {"lifecycle:access_token.ttl", "lifecycle:access_token.format", "lifecycle:refresh_token.format",
            "lifecycle:refresh_token.rotates"} <= proven
    cov = {e.id: e for e in result.flows[0].coverage.elements}
    assert cov["lifecycle:refresh_token.ttl"].result == "unobservable"  # opaque: no lifetime stated
    # within the tolerance (1 %, at least 2 s): 3570 s is 1 h
    assert run(tmp_path, TOKEN, token_route(expires_in=3570, lifetime=3570))[0].exit_code == 0
    _, by, _ = run(tmp_path, TOKEN, token_route(expires_in=600, lifetime=600))
    assert checks_of(by["happy-path"]) == [
        ("lifecycle access_token ttl (expires_in)", "3600 s (± 36 s)", "600 s"),
        ("lifecycle access_token ttl (exp - iat)", "3600 s (± 36 s)", "600 s")]
    # the input holds the lifetime on a test server with short lifetimes
    assert run(tmp_path, TOKEN, token_route(expires_in=2, lifetime=2))[0].exit_code == 1
    assert run(tmp_path, TOKEN, token_route(expires_in=2, lifetime=2), {"token_ttl": "2"})[0].exit_code == 0
    _, by, _ = run(tmp_path, TOKEN, token_route(expires_in=600, lifetime=600, access="opaque-access-token-01234567",
                                               refresh=jwt({"sub": "x"})))
    assert [c[0] for c in checks_of(by["happy-path"])] == [
        "lifecycle access_token format", "lifecycle access_token ttl (expires_in)", "lifecycle refresh_token format"]
    _, by, _ = run(tmp_path, TOKEN, token_route(refresh="old-refresh-token-0123"))
    assert checks_of(by["happy-path"]) == [("lifecycle refresh_token rotates", "a new refresh_token (rotated)",
                                            "the refresh_token that was sent")]


def test_tolerance_and_unverified_claims():
    assert tolerance(3600) == 36 and tolerance(60) == 2 and tolerance(2) == 2
    assert jwt_claims(jwt({"iat": 1, "exp": 2})) == {"iat": 1, "exp": 2}
    for value in (None, 42, "", "a.b", "a.b.c", "opaque-token", "e30.e30.sig",  # header without alg
                  jwt({"iat": 1}).replace(".", "..", 1), "x" * 70000 + ".a.b"):
        assert jwt_claims(value) is None, value
    deep = base64.urlsafe_b64encode(b"[" * 100000 + b"]" * 100000).rstrip(b"=").decode()
    assert jwt_claims(jwt({"a": 1}).split(".")[0] + "." + deep + ".sig") is None


def test_error_texts_of_hostile_pages_are_read_in_linear_time():
    run_guarded("""
from flowdoc.verify._forms import parse_page
from flowdoc.verify._received import Received
import httpx
for name, page in [
    ("brackets", "<p>" + "[a_" * 300000 + "</p>"),
    ("snake in error", '<p class="error">' + "a_" * 200000 + "A</p>"),
    ("error colons", "<p>" + "error: " * 200000 + "</p>"),
    ("error equals", "error=" * 300000),
]:
    print(name, flush=True)
    parse_page(page).error_codes()
    Received("GET", "http://x.invalid/", 400, "", httpx.Headers({"content-type": "text/plain"}),
             page.encode(), 0.0).error_codes()
print("done")
""", timeout=60)
    codes = parse_page('<p class="error">' + "x" * 5000 + ' invalid_grant</p>').error_codes()
    assert ("page", "invalid_grant") not in codes  # error texts are cut at 300 characters
