"""The mutation table: realistic documentation mistakes in the example flows (flows/*.yaml).

Each :class:`Mutation` is one edit of one flow: what the edited page would claim, why that is
wrong (against the project's test server, tests/node/oidc_server.mjs, and the RFCs it follows),
the scenarios that show it, and how it must be caught: ``verify`` (flowdoc verify exits 1 naming
the step and the difference) or ``validate`` (the flow is rejected with FILE:LINE:COL before
anything is sent, so verify exits 2). :data:`OUT_OF_SCOPE` lists the edits no server can show,
with the reason. tests/test_verify_mutations.py runs the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mutation:
    id: str
    cls: str  # the class of mistake (for the score per class)
    flow: str  # file stem in flows/
    old: str  # text that occurs exactly once in the flow
    new: str
    claims: str  # what the edited page claims
    wrong: str  # why that is wrong
    scenarios: tuple[str, ...]  # scenario names to run (the ones the mutation touches)
    step: str = ""  # verify: the step the failure names
    shows: str = ""  # verify: text of the difference (a check's 'what', or the message)
    stage: str = "verify"  # verify | validate
    code: str = ""  # validate: the diagnostic code
    probe: bool = False  # run with --probe --strict
    extra: tuple[tuple[str, str], ...] = field(default=())  # further (old, new) edits of the same flow


def M(*args, **kw) -> Mutation:
    return Mutation(*args, **kw)


CC, AZ, MF, GW, SR = ("client-credentials", "authorization-code-pkce", "mfa-step-up", "gateway-login",
                      "silent-refresh-rotation")
HAPPY = ("happy-path",)

MUTATIONS: list[Mutation] = [
    # ------------------------------------------------------------ client-credentials
    M("cc-token-status", "status", CC, "    response:\n      status: 200\n      fields: [access_token, token_type",
      "    response:\n      status: 201\n      fields: [access_token, token_type",
      "the token endpoint answers 201 Created", "RFC 6749 §5.1: a token response is 200 OK", HAPPY,
      "request_token", "status"),
    M("cc-token-refresh-field", "field", CC, "fields: [access_token, token_type, expires_in, scope]",
      "fields: [access_token, token_type, expires_in, scope, refresh_token]",
      "a refresh token comes with the access token", "RFC 6749 §4.4.3: no refresh token for client credentials",
      HAPPY, "request_token", "field refresh_token"),
    M("cc-token-type", "body value", CC, "      body:\n        token_type: Bearer", "      body:\n        token_type: DPoP",
      "the token is DPoP-bound", "the server issues Bearer tokens", HAPPY, "request_token", "body token_type"),
    M("cc-jwt-aud", "jwt", CC, "          iss: ${inputs.issuer}\n          required: [exp, iat, client_id, scope]",
      "          iss: ${inputs.issuer}\n          aud: ${inputs.issuer}\n          required: [exp, iat, client_id, scope]",
      "the access token's audience is the authorization server", "its audience is the API (resource indicator)",
      HAPPY, "request_token", "JWT body.access_token"),
    M("cc-jwt-scope", "jwt", CC, "          required: [exp, iat, client_id, scope]",
      "          required: [exp, iat, client_id, scope]\n          claims: {scope: \"api:read api:write\"}",
      "the token carries both API scopes", "only the scope asked for (api:read) is granted", HAPPY,
      "request_token", "claim scope"),
    M("cc-unknown-client-error", "error code", CC,
      "        response: {status: 401, error: invalid_client}\n        to: client_rejected\n        remedy: Use the client id",
      "        response: {status: 401, error: unauthorized_client}\n        to: client_rejected\n        remedy: Use the client id",
      "an unknown client id answers unauthorized_client", "RFC 6749 §5.2: an unknown client is invalid_client",
      ("unknown_client",), "request_token", "error"),
    M("cc-bad-scope-status", "status", CC, "response: {status: 400, error: invalid_scope}",
      "response: {status: 403, error: invalid_scope}", "a scope the client may not have answers 403",
      "RFC 6749 §5.2: 400 invalid_scope", ("bad_scope",), "request_token", "status"),
    M("cc-bad-scope-provoke", "provoke", CC, 'form: {scope: "admin:everything"}', 'form: {scope: "api:write"}',
      "asking for api:write is refused", "api:write is registered for the client: the server grants it",
      ("bad_scope",), "request_token", "status"),
    M("cc-missing-token-error", "error code", CC, "response: {status: 401, error: invalid_token}",
      "response: {status: 401, error: invalid_request}", "a call without a token answers invalid_request",
      "RFC 6750 §3.1: the API answers invalid_token (WWW-Authenticate and body)", ("missing_token",),
      "call_api", "error"),
    M("cc-missing-token-provoke", "provoke", CC, "            omit: [Authorization]", "            omit: [Cookie]",
      "leaving out the cookie makes the API refuse", "the API reads the bearer token, not cookies: 200",
      ("missing_token",), "call_api", "status"),
    M("cc-ttl", "lifecycle ttl", CC, "      ttl: 10m\n      ttl_input: service_token_ttl",
      "      ttl: 1h\n      ttl_input: service_token_ttl",
      "the access token lives 1 h", "the server issues it for 600 s (expires_in and exp - iat)", HAPPY,
      "request_token", "lifecycle access_token ttl",
      extra=(("    default: 600\n", "    default: 3600\n"),)),  # the input's default follows ttl (validate insists)
    M("cc-format", "lifecycle format", CC, "      format: jwt\n      format_assumes:", "      format: opaque\n      format_assumes:",
      "the access token is opaque", "it is a signed JWT", HAPPY, "request_token", "lifecycle access_token format"),
    M("cc-call-field", "field", CC, "      status: 200\n      fields: [sub, scope]\n    failures:\n      - id: missing_token",
      "      status: 200\n      fields: [sub, scope, email]\n    failures:\n      - id: missing_token",
      "the API answers the caller's email", "/api/me answers sub, scope, client_id and acr", HAPPY, "call_api",
      "field email"),
    M("cc-capture", "capture", CC, "          from: body.expires_in", "          from: body.expires_at",
      "later steps can use the token's expires_at", "the token response has expires_in, no expires_at", HAPPY,
      "request_token", "capture expires_in"),
    # 1.2.0 names the endpoint (endpoint: token_endpoint, the documented path is for readers): the same
    # mistake is a hard-coded path in its place
    M("cc-token-path", "path", CC, "      path: /token\n      endpoint: token_endpoint\n      auth: client_secret_basic",
      "      path: /oauth2/token\n      auth: client_secret_basic", "the token endpoint is /oauth2/token",
      "it is /token (discovery's token_endpoint)", HAPPY, "request_token", "status"),
    M("cc-api-path", "path", CC, "      path: /api/me\n      auth: bearer", "      path: /api/orders\n      auth: bearer",
      "the API to call is /api/orders", "the API serves /api/me; /api/orders answers 404", HAPPY, "call_api", "status"),
    M("cc-ignored-param", "ignored parameter", CC, "        scope: ${inputs.scope}\n      optional: [scope]",
      "        scope: ${inputs.scope}\n        audience: ${inputs.resource_url}\n      optional: [scope]",
      "the client must name the audience", "the server ignores 'audience': it answers 200 without it",
      ("probe:request_token:audience",), "request_token", "documented as required", probe=True),
    M("cc-key-param", "key params", CC, "      optional: [scope]\n",
      "      optional: [scope]\n      key_params: [grant_type, scope, audience, Authorization]\n",
      "the arrow shows an audience parameter", "the request sends none", HAPPY, stage="validate",
      code="key-param-not-sent"),
    M("cc-trouble-status", "troubleshooting", CC, "  - error: invalid_client\n    status: 401",
      "  - error: invalid_client\n    status: 400", "invalid_client comes with 400",
      "the failure branches (and RFC 6749 §5.2 for Basic) say 401", HAPPY, stage="validate",
      code="troubleshooting-contradicts"),
    M("cc-bad-secret-status", "status", CC,
      "        response: {status: 401, error: invalid_client}\n        to: client_rejected\n        remedy: Check",
      "        response: {status: 400, error: invalid_client}\n        to: client_rejected\n        remedy: Check",
      "a wrong secret answers 400", "the server answers 401 with WWW-Authenticate (client_secret_basic)",
      ("bad_secret",), stage="validate", code="troubleshooting-contradicts"),

    # ------------------------------------------------------------ authorization-code-pkce
    # 3.0.0 follows the server's redirects (start ends at the login form): the 303 the row edited is
    # not documented any more; the same claim (302 Found, not 303 See Other) is on the consent's redirect
    M("az-consent-status", "status", AZ,
      "      status: [302, 303]\n      redirect:\n        to: ${inputs.redirect_uri}\n        query:\n          code: null",
      "      status: 302\n      redirect:\n        to: ${inputs.redirect_uri}\n        query:\n          code: null",
      "the authorization server answers with 302 Found", "oidc-provider answers 303 See Other (302 is Django's)",
      HAPPY, "give_consent", "status"),
    # was: start redirects to /login/ (the redirect is followed in 3.0.0); the same claim on the login form's path
    M("az-login-path", "path", AZ, "      path: /interaction/{uid}/login\n", "      path: /login/{uid}\n",
      "the login page is under /login/", "the server's login form posts to /interaction/UID/login", HAPPY,
      "submit_credentials", "path"),
    M("az-pkce-plain", "request value", AZ, "        code_challenge_method: S256\n        prompt: consent",
      "        code_challenge_method: plain\n        prompt: consent",
      "the challenge method is plain", "the server allows only S256: it redirects with invalid_request", HAPPY,
      "start", "status"),
    M("az-missing-pkce-error", "error code", AZ, "          error: invalid_request\n          redirect:\n            to: ${inputs.redirect_uri}",
      "          error: invalid_grant\n          redirect:\n            to: ${inputs.redirect_uri}",
      "a missing code_challenge is invalid_grant", "RFC 7636 §4.4.1: invalid_request", ("missing_pkce",), stage="validate",
      code="troubleshooting-contradicts"),
    M("az-missing-pkce-target", "redirect", AZ, "          redirect:\n            to: ${inputs.redirect_uri}\n            query: {error: invalid_request",
      "          redirect:\n            to: /interaction/\n            query: {error: invalid_request",
      "without PKCE the server goes on to the login", "it redirects to the client's callback with the error",
      ("missing_pkce",), "start", "redirect"),
    M("az-redirect-uri-redirects", "status", AZ, "response: {status: 400, error: invalid_redirect_uri}",
      "response: {status: 303, error: invalid_redirect_uri, redirect: {to: \"https://attacker.example/callback\"}}",
      "an unregistered redirect_uri gets the error at that URI",
      "RFC 6749 §4.1.2.1: the server must not redirect to an unregistered URI; it shows an error page (400)",
      ("redirect_uri_mismatch",), "start", "status"),
    M("az-redirect-uri-error", "error code", AZ, "response: {status: 400, error: invalid_redirect_uri}",
      "response: {status: 400, error: invalid_request}", "the error page says invalid_request",
      "it says invalid_redirect_uri", ("redirect_uri_mismatch",), "start", "error"),
    # was: the login's 303 leads to another interaction (the redirect is followed in 3.0.0); the same kind of
    # mistake about where the login leads: straight back to the app, no consent asked
    M("az-login-redirect", "redirect", AZ,
      "      status: 200\n      form: true\n      capture:\n        consent_form: {from: form, secret: false}",
      "      status: 303\n      redirect: {to: \"${inputs.redirect_uri}\"}\n      capture:\n"
      "        consent_form: {from: form, secret: false}",
      "after the password the browser goes straight back to the app", "prompt=consent: the server shows the "
      "consent form (200) first", HAPPY, "submit_credentials", "status"),
    M("az-wrong-password-status", "status", AZ, "        response: {status: 401, error: invalid_credentials}",
      "        response: {status: 200, error: invalid_credentials}", "a wrong password shows the form again with 200",
      "the test server answers 401 with the form", ("wrong_password",), "submit_credentials", "status"),
    M("az-wrong-password-error", "error code", AZ, "        response: {status: 401, error: invalid_credentials}",
      "        response: {status: 401, error: access_denied}", "a wrong password is access_denied",
      "the page says invalid_credentials", ("wrong_password",), "submit_credentials", "error"),
    M("az-locked-status", "status", AZ, "        response: {status: 403, error: account_locked}",
      "        response: {status: 401, error: account_locked}", "a locked account answers 401",
      "it answers 403", ("account_locked",), "submit_credentials", "status"),
    M("az-locked-provoke", "provoke", AZ,
      '          inputs: {username: "${inputs.locked_username}", password: "${inputs.locked_password}"}',
      '          inputs: {username: "${inputs.locked_username}", password: not-the-password}',
      "a wrong password on a locked account shows the lock", "the lock shows only after the correct password (2.0.0 "
      "→ 2.0.1): a wrong one answers 401 invalid_credentials", ("account_locked",), "submit_credentials", "status"),
    M("az-login-json", "content type", AZ, "      status: 200\n      form: true\n      capture:\n        login_form",
      "      status: 200\n      content_type: application/json\n      form: true\n      capture:\n        login_form",
      "the login step answers JSON", "it is an HTML page", HAPPY, "start", "Content-Type"),
    # was: the consent redirects straight to the app (true in 3.0.0, which follows the redirect); the
    # mistake is now the other way round: documenting the first hop, back to the authorization endpoint
    M("az-consent-redirect", "redirect", AZ,
      "      redirect:\n        to: ${inputs.redirect_uri}\n        query:\n          code: null",
      "      redirect:\n        to: /auth/\n        query:\n          code: null",
      "approving consent ends at the authorization endpoint", "the browser follows that redirect; the server "
      "then sends it to the callback with the code", HAPPY, "give_consent", "redirect"),
    M("az-denied-error", "error code", AZ, "          error: access_denied\n          redirect:",
      "          error: consent_required\n          redirect:", "a denied consent is consent_required",
      "RFC 6749 §4.1.2.1: access_denied", ("access_denied",), "give_consent", "error"),
    # was: through: [return_code] removed; 3.0.0 needs no through (the consent step follows the redirect
    # back through the authorization endpoint): the same claim is an error answered at the consent page
    M("az-denied-at-consent", "failure ends", AZ, "        response:\n          status: [302, 303]\n          error: access_denied\n"
      "          redirect:\n            to: ${inputs.redirect_uri}\n            query: {error: access_denied, state: \"${state}\"}\n",
      "        response: {status: 403, error: access_denied}\n",
      "the deny itself is answered with the error", "the deny is answered like an approval (303 to /auth/); the "
      "error shows at the redirect to the callback", ("access_denied",), "give_consent", "status"),
    M("az-denied-indistinct", "indistinguishable failure", AZ, "        response:\n          status: [302, 303]\n          error: access_denied\n"
      "          redirect:\n            to: ${inputs.redirect_uri}\n            query: {error: access_denied, state: \"${state}\"}\n",
      "        response:\n          status: [302, 303]\n          redirect: {to: \"${inputs.redirect_uri}\"}\n",
      "the deny sends the browser back to the app's callback (no error named)", "the approval answers exactly "
      "that: any answer proves it, even a code issued", ("access_denied",), stage="validate",
      code="failure-indistinguishable"),
    M("az-return-session-state", "redirect query", AZ, "          state: ${state}\n      capture:\n        code:",
      "          state: ${state}\n          session_state: null\n      capture:\n        code:",
      "the callback carries session_state", "the server sends code, state and iss only", HAPPY, "give_consent",
      "Location query session_state"),
    M("az-token-field", "field", AZ, "fields: [access_token, id_token, refresh_token, token_type, expires_in, scope]",
      "fields: [access_token, id_token, refresh_token, token_type, expires_in, scope, refresh_expires_in]",
      "the refresh token's lifetime is in the answer", "oidc-provider sends no refresh_expires_in", HAPPY,
      "exchange_code", "field refresh_expires_in"),
    M("az-token-type", "body value", AZ, "      body: {token_type: Bearer}", "      body: {token_type: DPoP}",
      "the tokens are DPoP-bound", "they are Bearer tokens", HAPPY, "exchange_code", "body token_type"),
    M("az-jwt-nonce", "jwt", AZ, "          nonce: ${nonce}\n          required: [sub, iat, exp]",
      "          nonce: ${state}\n          required: [sub, iat, exp]",
      "the ID token's nonce is the state", "it is the nonce sent with the authorization request", HAPPY,
      "exchange_code", "nonce"),
    M("az-jwt-aud", "jwt", AZ, "          aud: ${inputs.client_id}\n          nonce: ${nonce}\n          required: [sub, iat",
      "          aud: ${inputs.issuer}\n          nonce: ${nonce}\n          required: [sub, iat",
      "the ID token's audience is the issuer", "OIDC Core §2: it is the client id", HAPPY, "exchange_code", "aud"),
    M("az-jwt-email", "jwt", AZ, "          required: [sub, iat, exp]\n",
      "          required: [sub, iat, exp, email]\n", "the ID token carries the email",
      "the scope has no email: the claim is not there", HAPPY, "exchange_code", "claim email"),
    M("az-token-auth-none", "auth method", AZ, "      auth: client_secret_basic\n      form:\n        grant_type: authorization_code",
      "      auth: none\n      form:\n        grant_type: authorization_code",
      "the web app redeems the code as a public client (PKCE, no secret)",
      "it is a confidential client: without its secret the server answers 401 invalid_client", HAPPY,
      "exchange_code", "status"),
    M("az-bad-client-status", "status", AZ, "        response: {status: 401, error: invalid_client}",
      "        response: {status: 400, error: invalid_client}", "a wrong secret answers 400",
      "401 with WWW-Authenticate for Basic (RFC 6749 §5.2)", ("bad_client_secret",), "exchange_code", "status"),
    M("az-code-reused-error", "error code", AZ, "          replay: true\n        response: {status: 400, error: invalid_grant}",
      "          replay: true\n        response: {status: 400, error: invalid_request}",
      "a reused code is invalid_request", "RFC 6749 §5.2: invalid_grant", ("code_reused",), "exchange_code", "error"),
    M("az-wrong-verifier-provoke", "provoke", AZ,
      'form: {code_verifier: "a-verifier-that-does-not-match-the-challenge-0123456789"}',
      'form: {code_verifier: "${pkce.verifier}"}', "sending the session's verifier is refused",
      "it matches the challenge: tokens are issued", ("wrong_verifier",), "exchange_code", "status"),
    M("az-id-ttl", "lifecycle ttl", AZ, "      description: Proves who signed in; not for calling APIs\n      format: jwt\n      ttl: 1h",
      "      description: Proves who signed in; not for calling APIs\n      format: jwt\n      ttl: 10m",
      "the ID token lives 10 minutes", "exp - iat is 3600 s", HAPPY, "exchange_code", "lifecycle id_token ttl"),
    M("az-refresh-format", "lifecycle format", AZ, "      format: opaque\n      ttl: 14d",
      "      format: jwt\n      ttl: 14d", "the refresh token is a JWT", "oidc-provider's refresh tokens are opaque",
      HAPPY, "exchange_code", "lifecycle refresh_token format"),
    M("az-id-format", "lifecycle format", AZ, "      description: Proves who signed in; not for calling APIs\n      format: jwt",
      "      description: Proves who signed in; not for calling APIs\n      format: opaque",
      "the ID token is opaque", "an ID token is a JWT", HAPPY, "exchange_code", "lifecycle id_token format"),
    M("az-access-format", "lifecycle format", AZ, "      description: JWT access token for the API\n      format: jwt",
      "      description: JWT access token for the API\n      format: opaque", "the access token is opaque",
      "with an API scope it is the API's JWT", HAPPY, "exchange_code", "lifecycle access_token format"),
    M("az-ignored-param", "ignored parameter", AZ, "        prompt: consent\n      optional:",
      "        prompt: consent\n        audience: orders\n      optional:",
      "the authorization request must name the audience", "the server ignores 'audience'",
      ("probe:start:audience",), "start", "documented as required", probe=True),
    M("az-trouble-status", "troubleshooting", AZ, "  - error: invalid_grant\n    status: 400",
      "  - error: invalid_grant\n    status: 401", "invalid_grant comes with 401",
      "the failure branches say 400 (RFC 6749 §5.2)", HAPPY, stage="validate", code="troubleshooting-contradicts"),
    M("az-key-param", "key params", AZ, "      optional: [redirect_uri, state, nonce, prompt]\n",
      "      optional: [redirect_uri, state, nonce, prompt]\n      key_params: [response_type, client_id, resource]\n",
      "the arrow shows a resource parameter", "the request sends none", HAPPY, stage="validate",
      code="key-param-not-sent"),
    M("az-wrong-password-to", "failure state", AZ, "        assumes: [login_error_code]\n        to: login_shown",
      "        assumes: [login_error_code]\n        to: consent_shown",
      "after a wrong password the consent form shows", "no consent form was served: the consent step cannot follow",
      ("wrong_password",), stage="validate", code="capture-not-produced"),
    M("az-redirect-mismatch-status", "status", AZ, "        response: {status: 400, error: invalid_grant}\n"
      "        assumes: [redirect_mismatch_invalid_grant]", "        response: {status: 401, error: invalid_grant}\n"
      "        assumes: [redirect_mismatch_invalid_grant]", "a redirect_uri mismatch at /token answers 401",
      "400 invalid_grant", ("token_redirect_mismatch",), stage="validate", code="troubleshooting-contradicts"),

    # ------------------------------------------------------------ mfa-step-up
    M("mf-password-redirect", "redirect", MF, "      status: 303\n      redirect: {to: /interaction/}\n      capture:\n        challenge_url",
      "      status: 303\n      redirect: {to: /auth/}\n      capture:\n        challenge_url",
      "after the password the authorization resumes (no second factor asked here)",
      "for bob the server shows the code form next (/interaction/UID)", HAPPY, "submit_password", "redirect"),
    M("mf-wrong-otp-error", "error code", MF, "        response: {status: 401, error: invalid_otp}",
      "        response: {status: 401, error: invalid_grant}", "a wrong code is invalid_grant",
      "the page says invalid_otp", ("wrong_otp",), "submit_otp", "error"),
    M("mf-lockout-4", "attempts", MF, "          attempts: 3", "          attempts: 4",
      "the challenge locks after 4 wrong codes", "it locks at the third", ("otp_lockout",), "submit_otp",
      "attempt 3 of 4"),
    M("mf-lockout-2", "attempts", MF, "          attempts: 3", "          attempts: 2",
      "the challenge locks after 2 wrong codes", "the second wrong code still answers 401 invalid_otp",
      ("otp_lockout",), "submit_otp", "status"),
    M("mf-lockout-to", "failure state", MF, "        response: {status: 403, error: mfa_locked}\n        to: mfa_locked",
      "        response: {status: 403, error: mfa_locked}\n        to: otp_form_shown",
      "after the lockout the user may enter a code again", "the challenge stays locked: a right code answers 403",
      ("otp_lockout",), stage="validate", code="unreachable-state"),
    M("mf-wrong-otp-to", "failure state", MF, "        response: {status: 401, error: invalid_otp}\n        to: otp_form_shown",
      "        response: {status: 401, error: invalid_otp}\n        to: mfa_verified",
      "a wrong code verifies the second factor", "no resume URL was issued: the next step cannot follow",
      ("wrong_otp",), stage="validate", code="capture-not-produced"),
    M("mf-wrong-password-to", "failure state", MF, "        assumes: [login_error_code]\n        to: login_shown",
      "        assumes: [login_error_code]\n        to: mfa_challenge_issued",
      "a wrong password still leads to the code challenge", "no challenge was issued: its form cannot be loaded",
      ("wrong_password",), stage="validate", code="capture-not-produced"),
    M("mf-acr", "jwt", MF, 'claims: {acr: "${inputs.mfa_acr}"}', 'claims: {acr: "urn:flowdoc:acr:pwd"}',
      "the session's acr is password only", "after the code the acr is urn:flowdoc:acr:mfa", HAPPY, "exchange_code",
      "claim acr"),
    M("mf-jwt-email", "jwt", MF, "          required: [sub, acr, amr, auth_time]",
      "          required: [sub, acr, amr, auth_time, email]", "the ID token carries the email",
      "the scope has no email", HAPPY, "exchange_code", "claim email"),
    M("mf-id-ttl", "lifecycle ttl", MF, "    id_token:\n      format: jwt\n      ttl: 1h",
      "    id_token:\n      format: jwt\n      ttl: 12h", "the ID token lives 12 h", "exp - iat is 3600 s", HAPPY,
      "exchange_code", "lifecycle id_token ttl"),
    M("mf-consent-redirect", "redirect", MF, "      redirect: {to: /interaction/}\n      capture:\n        consent_url",
      "      redirect: {to: /consent/}\n      capture:\n        consent_url", "the consent page is under /consent/",
      "it is /interaction/UID", HAPPY, "request_consent", "redirect"),
    M("mf-code-reused-status", "status", MF, "        provoke: {replay: true}\n        response: {status: 400, error: invalid_grant}",
      "        provoke: {replay: true}\n        response: {status: 401, error: invalid_grant}",
      "a reused code answers 401", "400 invalid_grant", ("code_reused",), "exchange_code", "status"),
    M("mf-expired-error", "error code", MF, "        response: {status: 400, error: invalid_request}\n        to: session_expired",
      "        response: {status: 400, error: expired_token}\n        to: session_expired",
      "an expired challenge is expired_token", "the page says invalid_request", ("challenge_expired",),
      "submit_otp", "error"),
    M("mf-access-format", "lifecycle format", MF, "    access_token: {format: jwt,", "    access_token: {format: opaque,",
      "the access token is opaque", "with api:read it is the API's JWT", HAPPY, "exchange_code",
      "lifecycle access_token format"),
    M("mf-scope", "lifecycle format", MF, 'default: "openid profile api:read"', "default: openid profile",
      "openid and profile suffice for the JWT access token (version 2.1.0)",
      "without an API scope the server issues an opaque token for userinfo", HAPPY, "exchange_code",
      "lifecycle access_token format"),

    # ------------------------------------------------------------ gateway-login
    M("gw-login-status", "status", GW, "      status: 302\n      redirect: {to: \"${inputs.issuer}/auth\"}",
      "      status: 303\n      redirect: {to: \"${inputs.issuer}/auth\"}", "the gateway answers 303",
      "it answers 302 Found", ("no_session",), "open_login", "status"),
    M("gw-login-redirect", "redirect", GW, 'redirect: {to: "${inputs.issuer}/auth"}',
      'redirect: {to: "${inputs.issuer}/authorize"}', "the authorization endpoint is /authorize",
      "discovery and the gateway say /auth", ("no_session",), "open_login", "redirect"),
    M("gw-callback-redirect", "redirect", GW, "      headers: {Set-Cookie: null}\n      redirect: {to: /}",
      "      headers: {Set-Cookie: null}\n      redirect: {to: /home}", "after sign-in the browser lands on /home",
      "the gateway sends it to /", ("no_session",), "callback", "redirect"),
    M("gw-callback-cookie", "capture", GW, "        session: cookies.gw_session", "        session: cookies.session",
      "the session cookie is named session", "it is gw_session", ("no_session",), "callback", "capture session"),
    M("gw-call-field", "field", GW, "      status: 200\n      fields: [sub, scope]\n    failures:",
      "      status: 200\n      fields: [sub, scope, email]\n    failures:", "the API answers the user's email",
      "/api/me answers sub, scope, client_id and acr", HAPPY, "call_api", "field email"),
    M("gw-no-session-error", "error code", GW, "response: {status: 401, error: login_required}",
      "response: {status: 401, error: invalid_token}", "without a session the gateway says invalid_token",
      "it says login_required", ("no_session",), "call_api", "error"),
    M("gw-no-session-redirect", "status", GW, "response: {status: 401, error: login_required}",
      "response: {status: 302, redirect: {to: /login}}", "without a session the gateway redirects to /login",
      "an API call answers 401 login_required", ("no_session",), "call_api", "status"),
    M("gw-no-session-to", "failure state", GW, "        response: {status: 401, error: login_required}\n        to: anonymous",
      "        response: {status: 401, error: login_required}\n        to: login_shown",
      "without a session the gateway shows the login form, ready for the password",
      "the sign-in it had started is over: the form can no longer be submitted (the user starts at /login)",
      ("no_session",), "submit_credentials", "status"),
    M("gw-no-session-provoke", "provoke", GW, "            omit: [Cookie]", "            omit: [Authorization]",
      "leaving out the Authorization header is refused", "the gateway reads its session cookie: 200",
      ("no_session",), "call_api", "status"),
    M("gw-invalid-credentials-status", "status", GW, "        response: {status: 401, error: invalid_credentials}",
      "        response: {status: 403, error: invalid_credentials}", "a wrong password answers 403",
      "401, as the troubleshooting row says", ("invalid_credentials",), stage="validate",
      code="troubleshooting-contradicts"),
    M("gw-key-param-authorize", "key params", GW, "key_params: [response_type, client_id, redirect_uri, scope, state, code_challenge]",
      "key_params: [response_type, client_id, redirect_uri, scope, state, code_challenge, prompt]",
      "the gateway sends prompt", "its authorization URL has no prompt", ("no_session",), "authorize",
      "key parameter prompt"),
    M("gw-key-param-callback", "key params", GW, "      key_params: [code, state]", "      key_params: [code, state, session_state]",
      "the callback carries session_state", "it carries code, state and iss", ("no_session",), "callback",
      "key parameter session_state"),
    M("gw-refreshed-header", "header", GW, 'headers: {X-Token-Refreshed: "true"}', 'headers: {X-Token-Refreshed: "yes"}',
      "the gateway flags a refresh with 'yes'", "it sends X-Token-Refreshed: true", HAPPY, "call_api_after_expiry",
      "header X-Token-Refreshed"),

    # ------------------------------------------------------------ silent-refresh-rotation
    M("sr-token-type", "body value", SR, "      body: {token_type: Bearer}", "      body: {token_type: DPoP}",
      "the refreshed tokens are DPoP-bound", "they are Bearer tokens", HAPPY, "refresh", "body token_type"),
    M("sr-rotates-false", "rotation", SR, "      rotates: true", "      rotates: false",
      "a refresh returns the same refresh token", "the server rotates it on every use", HAPPY, "refresh",
      "lifecycle refresh_token rotates"),
    M("sr-refresh-format", "lifecycle format", SR, "      format: opaque\n      ttl: 14d", "      format: jwt\n      ttl: 14d",
      "the refresh token is a JWT", "it is opaque", HAPPY, "refresh", "lifecycle refresh_token format"),
    M("sr-replay-error", "error code", SR, "        provoke: {replay: true}\n        response: {status: 400, error: invalid_grant}",
      "        provoke: {replay: true}\n        response: {status: 400, error: invalid_request}",
      "a replayed refresh token is invalid_request", "RFC 6749 §5.2: invalid_grant", ("rotated_token_replayed",),
      "refresh", "error"),
    M("sr-refresh-auth-none", "auth method", SR, "      auth: client_secret_basic\n      form:\n        grant_type: refresh_token",
      "      auth: none\n      form:\n        grant_type: refresh_token",
      "a refresh needs no client authentication", "the client is confidential: 401 invalid_client", HAPPY,
      "refresh", "status"),
    M("sr-bad-client-status", "status", SR, "        response: {status: 401, error: invalid_client}",
      "        response: {status: 400, error: invalid_client}", "a wrong secret answers 400",
      "401 for client_secret_basic", ("refresh_bad_client",), "refresh", "status"),
    M("sr-call-error", "error code", SR, "      status: 401\n      error: invalid_token\n      headers: {WWW-Authenticate: null}\n"
      "  - id: call_profile", "      status: 401\n      error: expired_token\n      headers: {WWW-Authenticate: null}\n"
      "  - id: call_profile", "an expired access token is expired_token", "RFC 6750 §3.1: invalid_token", HAPPY,
      "call_orders", "error"),
    M("sr-refresh-field", "field", SR, "fields: [access_token, refresh_token, token_type, expires_in]",
      "fields: [access_token, refresh_token, token_type, expires_in, refresh_expires_in]",
      "the refresh token's lifetime is in the answer", "oidc-provider sends no refresh_expires_in", HAPPY,
      "refresh", "field refresh_expires_in"),
    M("sr-retry-field", "field", SR, "      status: 200\n      fields: [sub, scope]\nlifecycle:",
      "      status: 200\n      fields: [sub, scope, email]\nlifecycle:", "the API answers the email",
      "/api/me answers sub, scope, client_id and acr", HAPPY, "retry_call", "field email"),
    M("sr-call-status", "status", SR, "      status: 401\n      error: invalid_token\n      headers: {WWW-Authenticate: null}\n"
      "  - id: call_profile", "      status: 403\n      error: invalid_token\n      headers: {WWW-Authenticate: null}\n"
      "  - id: call_profile", "an expired token answers 403", "401, as the troubleshooting row says", HAPPY,
      stage="validate", code="troubleshooting-contradicts"),
]


@dataclass(frozen=True)
class OutOfScope:
    edit: str
    reason: str
    statements: tuple[tuple[str, str], ...] = ()  # (flow, statement id) coverage lists as unobservable


OUT_OF_SCOPE: list[OutOfScope] = [
    OutOfScope("remedy, when, title, description, handoff wording", "prose for readers: no server answer shows it"),
    OutOfScope("lifecycle storage, caching and reauthenticate rules", "what the client does with its tokens"),
    OutOfScope("lifecycle rotation and revocation text", "prose; rotation is checked through rotates: true/false",
               ((AZ, "lifecycle:refresh_token.rotation"), (SR, "lifecycle:refresh_token.revocation"))),
    OutOfScope("refresh_ahead 60s → 5m", "when the client refreshes is the client's behaviour",
               ((CC, "lifecycle:access_token.refresh_ahead"),)),
    OutOfScope("idle_ttl 1h → 2h (gateway session), 30m → 1h (MFA session)",
               "shows only after that long unused; a run does not wait idle",
               ((GW, "lifecycle:gw_session.idle_ttl"), (MF, "lifecycle:mfa_session.idle_ttl"))),
    OutOfScope("gateway_exchange: auth client_secret_post, fields add scope, status 201",
               "internal: the gateway redeems the code behind the server under test",
               ((GW, "transition:gateway_exchange"),)),
    OutOfScope("gateway-login access_token ttl / format, refresh_token format / rotates",
               "only the internal gateway_exchange carries those tokens",
               ((GW, "lifecycle:access_token.ttl"), (GW, "lifecycle:refresh_token.rotates"))),
    OutOfScope("refresh_token ttl 14d → 30d", "opaque, and oidc-provider states no refresh_expires_in",
               ((SR, "lifecycle:refresh_token.ttl"), (AZ, "lifecycle:refresh_token.ttl"))),
    OutOfScope("authorization_code ttl 60s → 10m", "the code states no lifetime; no branch waits it out",
               ((AZ, "lifecycle:authorization_code.ttl"),)),
    OutOfScope("gw_session ttl 12h → 24h", "the session cookie states no lifetime (no Max-Age)",
               ((GW, "lifecycle:gw_session.ttl"),)),
    OutOfScope("refresh_token rotates in authorization-code-pkce", "no step of that flow redeems it (the silent "
               "refresh flow does, and checks it)", ((AZ, "lifecycle:refresh_token.rotates"),)),
    OutOfScope("a failure to: another terminal state (request_rejected → login_failed)",
               "no step leaves a terminal state", ((AZ, "state:exchange_code/code_reused"),)),
    OutOfScope("enter_code action text", "an action with no HTTP exchange", ((MF, "transition:enter_code"),)),
    OutOfScope("auth client_secret_basic → client_secret_post (and back)",
               "oidc-provider accepts either for a client registered with one (lib/shared/client_auth.js): the "
               "server cannot show which one the page should name; a missing secret is caught (auth: none)"),
    OutOfScope("a guard's text (without expr)", "prose; a guard's expr is evaluated when the step runs"),
    OutOfScope("troubleshooting rows no failure branch documents (state mismatch, unsupported_grant_type)",
               "nothing provokes them", ((AZ, "troubleshooting:1"), (CC, "troubleshooting:1"))),
]
