"""Polling (``request.poll``, RFC 8628): validation with FILE:LINE:COL, the drawing (a Mermaid loop, a
self-transition), the page's words, and verify's loop against the real test server: the interval, one
more poll after max_wait, and slow_down obeyed (the next poll comes interval + 5 s later, measured from
the server's own request timestamps)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from flowdoc.check import validate_text
from flowdoc.render import render_diagram
from flowdoc.render import diagram as D
from tests.helpers import FLOWS, run_flowdoc, run_verify
from tests.support.oidc import start_oidc_server

DEVICE = FLOWS / "device-authorization.yaml"
TEXT = DEVICE.read_text()
POLL = """      poll:
        starts_after: request_codes
        interval: ${steps.request_codes.body.interval}
        max_wait: ${steps.request_codes.body.expires_in}
"""


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _problems(text: str) -> list[tuple[str, int, str]]:
    flow, diags = validate_text(text, "device.yaml")
    return [(d.code, d.line or 0, d.message) for d in diags.errors]


# ------------------------------------------------------------------ validation


def test_the_example_is_valid_and_polls():
    flow, diags = validate_text(TEXT, "device.yaml")
    assert flow is not None and not diags.errors
    poll = flow.transition_map["poll_tokens"].request.poll
    assert poll.starts_after == "request_codes" and poll.interval == "${steps.request_codes.body.interval}"
    assert [(a.error, a.statuses, a.added) for a in poll.pending] == [
        ("authorization_pending", [400], 0), ("slow_down", [400], 5)]


def test_default_answers_are_rfc_8628s():
    text = TEXT.replace("""        pending:
          - {error: authorization_pending, description: the user has not decided yet}
          - {error: slow_down, description: the device polls too often, add_interval: 5s}
""", "").replace("        interval: ${steps.request_codes.body.interval}\n", "")
    flow, diags = validate_text(text, "device.yaml")
    assert flow is not None, diags
    poll = flow.transition_map["poll_tokens"].request.poll
    assert poll.interval == 5
    assert [(a.error, a.added) for a in poll.pending] == [("authorization_pending", 0), ("slow_down", 5)]


def test_starts_after_an_undefined_step_names_it_with_a_hint():
    text = TEXT.replace("        starts_after: request_codes\n", "        starts_after: request_code\n")
    (problem,) = _problems(text)
    assert problem[0] == "undefined-step" and problem[1] == _line_of(text, "starts_after: request_code\n")
    assert "request_code" in problem[2]
    _flow, diags = validate_text(text, "device.yaml")
    assert "request_codes" in (diags.errors[0].help or "")


def test_starts_after_must_be_an_earlier_step_not_the_polled_one():
    assert _problems(TEXT.replace("        starts_after: request_codes\n", "        starts_after: sign_in\n")) == []
    text = TEXT.replace("        starts_after: request_codes\n", "        starts_after: poll_tokens\n")
    (problem,) = _problems(text)
    assert problem[0] == "poll-start" and "itself" in problem[2]
    assert problem[1] == _line_of(text, "starts_after: poll_tokens")


def test_a_failure_branch_that_is_an_intermediate_answer_is_refused():
    text = TEXT.replace("response: {status: 400, error: expired_token}", "response: {status: 400, error: slow_down}")
    (problem,) = _problems(text)
    assert problem[0] == "poll-shadowed" and "could never show" in problem[2]
    assert problem[1] == _line_of(text, "response: {status: 400, error: slow_down}")


@pytest.mark.parametrize("change, words", [
    (("        interval: ${steps.request_codes.body.interval}\n", "        interval: soon\n"), "interval"),
    (("        max_wait: ${steps.request_codes.body.expires_in}\n", "        max_wait: -3\n"), "max_wait"),
    (("          - {error: slow_down, description: the device polls too often, add_interval: 5s}\n",
      "          - {error: authorization_pending}\n"), "listed twice"),
    (("      poll:\n", "      retry: {attempts: 3}\n      poll:\n"), "leave out 'retry'"),
    (("        until: the user", "        until_: the user"), "unknown key"),
])
def test_bad_poll_values_are_errors_with_a_position(change, words, tmp_path):
    text = TEXT.replace(*change)
    assert text != TEXT
    path = tmp_path / "device.yaml"
    path.write_text(text)
    proc = run_flowdoc("validate", str(path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert re.search(rf"{re.escape(str(path))}:\d+:\d+: error\[", proc.stdout), proc.stdout
    assert words in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------ drawing


def test_sequence_draws_a_loop_then_the_answer_that_ends_it():
    flow, _d = validate_text(TEXT, "device.yaml")
    seq = D.build_sequence(flow)
    loops = [it for it in seq.walk() if isinstance(it, D.Block) and it.kind == "loop"]
    (loop,) = loops
    assert loop.transition == "poll_tokens"
    assert loop.sections[0].label.startswith("From step 1 on, poll at the interval from step 1 (5 s if none) until")
    texts = [m.text for m in loop.sections[0].items]
    assert texts[0].startswith("POST /token — grant_type=urn:ietf:params:oauth:grant-type:device_code")
    assert texts[1:] == ["400 authorization_pending — poll again", "400 slow_down — poll again, 5 s slower"]
    src = render_diagram(flow, "sequence")
    assert "    loop From step 1 on, poll at" in src
    after = src[src.index("    loop "):]
    assert after.index("    end") < after.index("200 — access_token")  # the ending answer comes after the loop


def test_state_diagram_draws_a_self_transition():
    flow, _d = validate_text(TEXT, "device.yaml")
    graph = D.build_state_graph(flow)
    (edge,) = [e for e in graph.edges if e.kind == "poll"]
    # on the state the client polls in: from the step the polling starts after on
    assert (edge.src, edge.dst, edge.transition) == ("awaiting_user", "awaiting_user", "poll_tokens")
    assert edge.label.split("\n") == ["400 authorization_pending — poll again", "400 slow_down — poll again, 5 s slower"]
    assert "s_awaiting_user --> s_awaiting_user : 400 authorization_pending" in render_diagram(flow, "state")


# ------------------------------------------------------------------ verify against the test server

MINI = """# a device flow polled with no user: pending until max_wait has passed
id: device-pending
title: Poll with no one to approve
version: "1.0.0"
updated: 2026-11-30
actors:
  device: {name: TV App, kind: client}
  auth: {name: Authorization Server, kind: authorization-server, base_url: "${inputs.issuer}"}
inputs:
  issuer: {description: Issuer}
  client_id: {description: Client, default: flowdoc-tv}
states:
  - {id: idle, initial: true}
  - {id: waiting}
  - {id: done, terminal: true}
transitions:
  - id: request_codes
    from: idle
    to: waiting
    by: device -> auth
    title: Ask for a device code
    request:
      method: POST
      path: /device/auth
      endpoint: device_authorization_endpoint
      form: {client_id: "${inputs.client_id}"}
    response: {status: 200, fields: [device_code], capture: {device_code: body.device_code}}
  - id: poll_tokens
    from: waiting
    to: done
    by: device -> auth
    title: Poll for the tokens
    request:
      method: POST
      path: /token
      endpoint: token_endpoint
      form:
        grant_type: urn:ietf:params:oauth:grant-type:device_code
        device_code: ${steps.request_codes.device_code}
        client_id: ${inputs.client_id}
      poll: {interval: "${steps.request_codes.body.interval}", max_wait: 2}
    response: {status: 200, fields: [access_token]}
"""


@pytest.fixture(scope="module")
def device_server():
    with start_oidc_server(deviceInterval=1, ttl={"DeviceCode": 20}) as srv:
        yield srv


def _verify(srv, tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    report = tmp_path / "report.json"
    proc = run_verify([*args, "--input", f"issuer={srv.issuer}", "--report-json", str(report)],
                      env={"FLOWDOC_PASSWORD": srv.users["alice"]["password"]}, timeout=120)
    return proc, json.loads(report.read_text()) if report.exists() else {}


_POLL_LINE = re.compile(r"device poll ([0-9a-f]{12}) #(\d+) (\S+) at (\d+) gap (\d+)( \(too early\))?")


def _server_polls(srv) -> dict[str, list[tuple[int, str, int, bool]]]:
    """The server's own record of every device-code poll: key -> [(n, answer, epoch ms, too early)]."""
    out: dict[str, list] = {}
    for line in srv.stderr_tail(400).splitlines():
        m = _POLL_LINE.search(line)
        if m:
            out.setdefault(m.group(1), []).append((int(m.group(2)), m.group(3), int(m.group(4)), bool(m.group(6))))
    return out


@pytest.mark.node
def test_slow_down_is_obeyed_by_server_timestamps(device_server, tmp_path):
    srv = device_server
    before = set(_server_polls(srv))
    proc, report = _verify(srv, tmp_path, str(DEVICE), "--scenario", "device-authorization/happy-path",
                           "--input", "client_id=flowdoc-tv", "--input", "username=alice")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    (key,) = set(_server_polls(srv)) - before
    polls = _server_polls(srv)[key]
    assert [(n, answer) for n, answer, _at, _early in polls] == [
        (1, "authorization_pending"), (2, "slow_down"), (3, "200")]
    assert not any(early for *_x, early in polls)
    interval = 1  # the server's interval (deviceInterval)
    assert polls[1][2] - polls[0][2] >= interval * 1000  # the interval between the first two polls
    assert polls[2][2] - polls[1][2] >= (interval + 5) * 1000  # slow_down: 5 s more (RFC 8628 section 3.5)
    (flow,) = report["flows"]
    assert {"poll:poll_tokens/authorization_pending", "poll:poll_tokens/slow_down"} <= {
        e["id"] for e in flow["coverage"]["elements"] if e["result"] == "proven"}


@pytest.mark.node
def test_polling_ends_one_poll_after_max_wait_as_a_conformance_failure(device_server, tmp_path):
    srv = device_server
    path = tmp_path / "device-pending.yaml"
    path.write_text(MINI)
    before = set(_server_polls(srv))
    proc, report = _verify(srv, tmp_path, str(path), "--scenario", "happy-path")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "'poll_tokens' was still answered with an intermediate answer after polling 2 s (max_wait)" in proc.stdout
    (key,) = set(_server_polls(srv)) - before
    polls = _server_polls(srv)[key]
    # pending at once, slow_down a second later, pending again 6 s after that: past max_wait, no more polls
    assert [answer for _n, answer, _at, _e in polls] == ["authorization_pending", "slow_down", "authorization_pending"]
    assert polls[2][2] - polls[1][2] >= 6000


@pytest.mark.node
def test_polling_is_bounded_by_max_wait_of_the_run(device_server, tmp_path):
    """--max-wait below the interval after slow_down: skipped with the reason, not a hang."""
    srv = device_server
    path = tmp_path / "device-pending.yaml"
    path.write_text(MINI.replace("max_wait: 2}", "max_wait: 60}"))
    proc, report = _verify(srv, tmp_path, str(path), "--scenario", "happy-path", "--max-wait", "3")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    (flow,) = report["flows"]
    (scn,) = flow["scenarios"]
    assert scn["status"] == "skipped" and "more than --max-wait 3 s" in scn["reason"], scn
