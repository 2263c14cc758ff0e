"""Validation rules about what a page can prove (flowdoc/check/claims.py): each mistake is an error
with FILE:LINE:COL, found by `flowdoc validate` in an edited copy of an example flow."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowdoc.check import validate_file
from tests.helpers import FLOWS, line_of, run_flowdoc

#: the example flow whose consent step stops at the 303 back to the authorization endpoint (version 1;
#: the current authorization-code-pkce follows that redirect, so its deny needs no through)
HOPS = "authorization-code-pkce.v1"
ACCESS_DENIED = '''        provoke:
          request:
            form: {decision: deny}
        through: [return_tokens]
        response:
          status: 303
          error: access_denied
          redirect: {to: "${inputs.redirect_uri}"}
'''


def edited(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = (FLOWS / f"{name}.yaml").read_text()
    assert text.count(old) == 1, old
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace(old, new))
    return path


def codes(path: Path) -> list[tuple[str, int | None, int | None, str]]:
    _flow, diags = validate_file(path)
    return [(d.code, d.line, d.col, d.message) for d in diags.errors]


@pytest.mark.parametrize("name", sorted(p.stem for p in FLOWS.glob("*.yaml")))
def test_every_example_flow_passes_the_claim_rules(name):
    assert codes(FLOWS / f"{name}.yaml") == []


def test_failure_answered_like_the_success_is_an_error_with_its_position(tmp_path):
    """The old access_denied branch: 303 to /auth/, as the approval answers: it proves nothing."""
    path = edited(tmp_path, HOPS, ACCESS_DENIED, '''        provoke:
          request:
            form: {decision: deny}
        response:
          status: 303
          redirect: {to: /auth/}
''')
    found = codes(path)
    line = line_of(path, "form: {decision: deny}") + 1
    assert [(c, ln) for c, ln, _col, _m in found] == [("failure-indistinguishable", line)], found
    assert found[0][2] == 9
    assert "'access_denied'" in found[0][3] and "'give_consent'" in found[0][3] and "303" in found[0][3]
    proc = run_flowdoc("validate", str(path))
    assert proc.returncode == 2
    assert f"{path}:{line}:9: error[failure-indistinguishable]" in proc.stdout
    assert "through: [STEP]" in proc.stdout  # the help says how to fix it


@pytest.mark.parametrize("response,distinct", [
    ("{status: 303}", False),                                     # same status, nothing else
    ("{status: 303, redirect: {to: /auth/}}", False),              # same target
    ("{status: 303, error: access_denied}", True),                 # an error code
    ("{status: 400}", True),                                       # another status
    ("{status: 303, redirect: {to: /denied}}", True),              # another target
    ("{status: 303, redirect: {to: /auth/, query: {error: null}}}", True),  # an error in the Location
    ("{status: 303, headers: {X-Denied: 'yes'}}", False),          # a header the success does not pin
    ("{status: 303, fields: [error]}", True),                      # an error field in the body
])
def test_what_tells_a_failure_apart(tmp_path, response, distinct):
    path = edited(tmp_path, HOPS, ACCESS_DENIED, f'''        provoke:
          request:
            form: {{decision: deny}}
        response: {response}
''')
    found = [c for c, *_ in codes(path)]
    assert found == ([] if distinct else ["failure-indistinguishable"]), found


def test_through_must_follow_the_steps_in_order(tmp_path):
    path = edited(tmp_path, HOPS, "through: [return_tokens]", "through: [show_consent]")
    found = codes(path)
    assert [c for c, *_ in found] == ["through-broken"]
    assert found[0][1] == line_of(path, "through: [show_consent]")
    assert "'show_consent' leaves 'authenticated' but 'give_consent' ends in 'consented'" in found[0][3]
    path = edited(tmp_path, HOPS, "through: [return_tokens]", "through: [return_token]")
    assert [c for c, *_ in codes(path)] == ["undefined-step"]


def test_through_cannot_replay(tmp_path):
    path = edited(tmp_path, HOPS, "            form: {decision: deny}\n        through:",
                  "            form: {decision: deny}\n          replay: true\n        through:")
    assert [c for c, *_ in codes(path)] == ["through-not-runnable"]


def test_a_key_parameter_that_is_not_sent_is_an_error(tmp_path):
    path = edited(tmp_path, "client-credentials", "      optional: [scope]\n",
                  "      optional: [scope]\n      key_params: [grant_type, scope, audience, Authorization]\n")
    found = codes(path)
    assert [c for c, *_ in found] == ["key-param-not-sent"]
    line = line_of(path, "key_params: [grant_type")
    assert found[0][1:3] == (line, 39) and "'audience'" in found[0][3]


def test_key_parameters_of_a_request_built_from_an_earlier_url_are_left_to_verify(tmp_path):
    path = edited(tmp_path, "gateway-login", "key_params: [response_type,", "key_params: [prompt, response_type,")
    assert codes(path) == []


def test_an_optional_parameter_must_be_a_parameter(tmp_path):
    path = edited(tmp_path, "client-credentials", "optional: [scope]", "optional: [scopes]")
    found = codes(path)
    assert [c for c, *_ in found] == ["undefined-parameter"] and "'scopes'" in found[0][3]


def test_troubleshooting_row_must_agree_with_the_failure_branches(tmp_path):
    path = edited(tmp_path, "client-credentials", "  - error: invalid_client\n    status: 401",
                  "  - error: invalid_client\n    status: 400")
    found = codes(path)
    assert [c for c, *_ in found] == ["troubleshooting-contradicts"]
    assert found[0][1] == line_of(path, "    status: 400") and found[0][2] == 13
    assert "failure 'bad_secret' documents 401 invalid_client" in found[0][3]


def test_troubleshooting_row_must_agree_with_a_step_that_documents_the_error(tmp_path):
    path = edited(tmp_path, "silent-refresh-rotation", "  - error: invalid_token\n    status: 401",
                  "  - error: invalid_token\n    status: 403")
    found = codes(path)
    assert [c for c, *_ in found] == ["troubleshooting-contradicts"] and "step 'call_orders'" in found[0][3]


def test_ttl_input_must_default_to_the_documented_ttl(tmp_path):
    path = edited(tmp_path, "silent-refresh-rotation", "access_token_ttl: {description: Access token lifetime in "
                  "seconds (to wait it out), default: 3600}", "access_token_ttl: {description: Access token lifetime "
                  "in seconds (to wait it out), default: 600}")
    found = codes(path)
    assert [c for c, *_ in found] == ["ttl-input-default"] and "(600)" in found[0][3] and "3600 s" in found[0][3]
    path = edited(tmp_path, "silent-refresh-rotation", "ttl_input: access_token_ttl", "ttl_input: token_ttl")
    assert [c for c, *_ in codes(path)] == ["undefined-input"]


def test_observed_by_names_a_step_a_client_sends(tmp_path):
    path = edited(tmp_path, "gateway-login", "    internal: true\n", "    internal: true\n    observed_by: call_api\n")
    assert codes(path) == []
    path = edited(tmp_path, "gateway-login", "    internal: true\n", "    internal: true\n    observed_by: gateway_exchange\n")
    assert [c for c, *_ in codes(path)] == ["observed-by-not-runnable"]
    path = edited(tmp_path, "gateway-login", "    title: Load the login form\n",
                  "    title: Load the login form\n    observed_by: callback\n")
    assert [c for c, *_ in codes(path)] == ["observed-by-not-internal"]


def test_history_read_from_git_is_not_held_to_the_new_rules():
    """A revision in git with a branch the new rule rejects still diffs (graph checks only)."""
    from flowdoc.diff.git import flow_from_text

    text = (FLOWS / f"{HOPS}.yaml").read_text()
    assert text.count(ACCESS_DENIED) == 1
    text = text.replace(ACCESS_DENIED, '''        provoke:
          request:
            form: {decision: deny}
        response:
          status: 303
          redirect: {to: /auth/}
''')
    flow = flow_from_text(text, f"HEAD:flows/{HOPS}.yaml")
    assert flow.id == "authorization-code-pkce"
