"""The reports of flowdoc verify against a small real HTTP server on 127.0.0.1: redacted as data, so
valid whatever a secret looks like (issue 8 item 6), and safe from what a server sends (issue 14)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from flowdoc.load import read_flow_text
from flowdoc.report import Progress, failure_details, json_report, junit_xml, summary
from flowdoc.report._text import visible
from flowdoc.verify import Verifier, VerifyOptions
from tests.support.hostile_http import HostileServer, Seen

ROOT = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------ a server that echoes secrets

#: what the server hands out as a session token (set by each test before it runs)
ISSUED = {"session": "sess-0000000000"}


def _login(rq: Seen):
    body = json.loads(rq.body)
    ISSUED["password"] = body.get("password")
    # the password and the issued token come back in the JSON answer
    return 200, [("Content-Type", "application/json")], json.dumps(
        {"session": ISSUED["session"], "echo": body.get("password"), "token_type": "Bearer"})


def _token(rq: Seen):
    form = {k: v[0] for k, v in parse_qs(rq.body.decode(), keep_blank_values=True).items()}
    otp = parse_qs(rq.query, keep_blank_values=True).get("otp", [""])[0]
    # every secret comes back raw in a text body, on a step that fails (400, documented 200)
    text = (f"rejected otp {otp} for secret {form.get('client_secret')} with session {form.get('session')} "
            f"after password {ISSUED.get('password')}")
    return 400, [("Content-Type", "text/plain; charset=utf-8")], text


FLOW = """id: echo
title: A server that echoes every secret
version: "1.0.0"
actors:
  client: {name: Client, kind: client}
  auth: {name: Auth, kind: authorization-server, base_url: "${inputs.issuer}"}
inputs:
  issuer: {description: Issuer}
  client_id: {description: Client id, default: probe-client}
  client_secret: {description: Client secret, secret: true}
  password: {description: Password, secret: true}
  otp: {description: One-time code, secret: true}
states:
  - {id: start, initial: true}
  - {id: signed_in}
  - {id: done, terminal: true}
transitions:
  - id: login
    from: start
    to: signed_in
    by: client -> auth
    title: Sign in with the password
    request: {method: POST, path: /login, json: {username: probe, password: "${inputs.password}"}}
    response: {status: 200, capture: {session: body.session}}
  - id: get_token
    from: signed_in
    to: done
    by: client -> auth
    title: Exchange the session and the code for a token
    request:
      method: POST
      path: /token
      query: {otp: "${inputs.otp}"}
      auth: client_secret_post
      form: {session: "${steps.login.session}"}
    response: {status: 200}
"""


@pytest.fixture(scope="module")
def server():
    with HostileServer({("POST", "/login"): _login, ("POST", "/token"): _token}) as srv:
        yield srv


@pytest.fixture(scope="module")
def echo_flow():
    flow, diags = read_flow_text(FLOW, "echo.yaml")
    assert flow is not None, [d.message for d in diags.items]
    return flow


def run_in_process(server, flow, secrets: dict[str, str], session: str) -> dict[str, str]:
    """One verify run (in this process, against the real server); every output as text."""
    ISSUED["session"] = session
    env = {"FLOWDOC_" + k.upper(): v for k, v in secrets.items()}
    stream = io.StringIO()
    with Verifier(VerifyOptions(inputs={"issuer": server.url}, env=env)) as v:
        result = v.run([flow], on_event=Progress(stream, color=False, redact=v.redactor.redact))
    assert result.exit_code == 1, failure_details(result)
    return {
        "terminal": stream.getvalue() + summary(result) + failure_details(result),
        "json": json_report(result),
        "junit": junit_xml(result),
    }


def _strings(data) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for v in data.values() for s in _strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    return []


def _junit_texts(root: ET.Element) -> list[str]:
    return [t for el in root.iter() for t in (el.text or "", *el.attrib.values())]


_PLACEHOLDER = re.compile(r"«[^«»]*»")


def parse_all(out: dict[str, str]) -> tuple[dict, ET.Element]:
    data = json.loads(out["json"])
    root = ET.fromstring(out["junit"])
    return data, root


# ------------------------------------------------------------------ regressions


def test_a_secret_inside_a_number_or_markup_leaves_every_report_valid(server, echo_flow):
    """The bug: the JSON report was redacted as text, so a TOTP code inside a duration gave
    ``"duration": 0.003425483«otp#2»895``. Short declared secrets that are part of numbers (the
    status 400), a quote, ``<`` and ``&`` now leave JSON and JUnit valid, and no text holds them."""
    out = run_in_process(server, echo_flow, {"client_secret": '"', "password": "<&", "otp": "400"},
                         session="sess-" + "7" * 20)
    data, root = parse_all(out)
    steps = data["flows"][0]["scenarios"][0]["steps"]
    assert [s["status"] for s in steps] == [200, 400]  # numbers are the report's own: never redacted
    assert all(isinstance(s["duration"], float) for s in steps) and data["summary"]["failed"] == 1
    for text in _strings(data):
        bare = _PLACEHOLDER.sub("", text)
        assert '"' not in bare and "<&" not in bare and "400" not in bare and "7" * 20 not in bare, text
    for text in _junit_texts(root):
        assert '"' not in _PLACEHOLDER.sub("", text) and "<&" not in text and "7" * 20 not in text, text
    assert ("rejected otp «otp» for secret «client_secret» with session «session#1» after password «password»"
            in out["terminal"])


def _leaks(value: str, out: dict[str, str]) -> list[str]:
    """Where ``value`` shows: in the terminal text (also as escaped by it), in any string of the
    parsed JSON report, in any text or attribute of the parsed JUnit report."""
    data, root = parse_all(out)
    forms = {value, visible(value), visible(value, multiline=True)}
    places = {"terminal": [out["terminal"]], "json": _strings(data), "junit": _junit_texts(root)}
    return [name for name, texts in places.items() if any(f in t for f in forms for t in texts)]


def test_ansi_nul_and_direction_bytes_from_the_server_are_escaped(tmp_path):
    nasty = "\x1b[2J\x1b[31mPWNED\x1b]0;owned\x07 nul:\x00 cr:\rOVERWRITE \x9b31m \u202eevil\x1b[0m"
    routes = {
        ("POST", "/text"): lambda rq: (400, [("Content-Type", "text/plain; charset=utf-8")], nasty),
        ("POST", "/json"): lambda rq: (400, [("Content-Type", "application/json")],
                                       json.dumps({"error": "invalid\x1b[2J_client", "error_description": nasty})),
        ("POST", "/html"): lambda rq: (400, [("Content-Type", "text/html")],
                                       f"<html><title>t{nasty}</title><body><p class=error>{nasty}</p></body></html>"),
    }
    flows = tmp_path / "flows"
    flows.mkdir()
    for name in routes:
        path = name[1].strip("/")
        (flows / f"{path}.yaml").write_text(FLOW.split("states:")[0].replace("id: echo", f"id: inject-{path}") + f"""
states:
  - {{id: start, initial: true}}
  - {{id: done, terminal: true}}
transitions:
  - id: call
    from: start
    to: done
    by: client -> auth
    title: Call a server that answers with escape sequences
    request: {{method: POST, path: /{path}, form: {{a: b}}}}
    response: {{status: 200, error: invalid_client}}
""")
    with HostileServer(routes) as srv:
        for color in ("NO_COLOR", "FORCE_COLOR"):
            env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWDOC_", "NO_COLOR", "FORCE_COLOR"))}
            env.update({color: "1", "PYTHONPATH": str(ROOT), "FLOWDOC_CLIENT_SECRET": "s" * 12,
                        "FLOWDOC_PASSWORD": "p" * 12, "FLOWDOC_OTP": "123456"})
            junit, report = tmp_path / f"{color}.xml", tmp_path / f"{color}.json"
            proc = subprocess.run([sys.executable, "-m", "flowdoc", "verify", str(flows), "--input",
                                   f"issuer={srv.url}", "--junit", str(junit), "--report-json", str(report)],
                                  env=env, capture_output=True, text=True, timeout=60)
            assert proc.returncode == 1, proc.stdout + proc.stderr
            shown = proc.stdout + proc.stderr
            ours = re.sub(r"\x1b\[(?:0|2|32|31;1|35;1|33)m", "", shown) if color == "FORCE_COLOR" else shown
            for raw in ("\x1b", "\x00", "\r", "\x07", "\x9b", "\u202e"):
                assert raw not in ours, (color, repr(raw))
            for seen in ("\\x1b[2J\\x1b[31mPWNED", "nul:\\x00", "cr:\\rOVERWRITE", "\\x9b31m", "\\u202eevil",
                         "invalid\\x1b[2J_client"):
                assert seen in shown, (color, seen)
            # JUnit: well-formed, the bytes visible; JSON: valid, the text as the server sent it
            root = ET.parse(junit).getroot()
            texts = "\n".join(_junit_texts(root))
            assert "\\x1b[2J" in texts and "\\x00" in texts and "\x1b" not in texts
            data = json.loads(report.read_text(encoding="utf-8"))
            assert "\x9b" not in report.read_text(encoding="utf-8") and "\x1b" not in report.read_text()
            responses = [s["failure"]["response"] for f in data["flows"] for s in f["scenarios"]]
            assert any("\x1b[2J\x1b[31mPWNED" in r for r in responses)


def test_visible_escapes_controls_and_keeps_text():
    assert visible("a\x1b[31mb\tc\nd") == "a\\x1b[31mb\\x09c\\x0ad"
    assert visible("a\x1b[31mb\tc\nd", multiline=True) == "a\\x1b[31mb\tc\nd"
    assert visible("\ud800\ufffe\u2028é«»") == "\\ud800\\ufffe\\u2028é«»"
    assert visible("plain text") == "plain text"


# ------------------------------------------------------------------ the property


_SPECIAL = "\"'<>&\n\\%+=/\x1b"
_ALPHABET = "0123456789qzxQZX" + _SPECIAL
long_secrets = st.one_of(
    st.from_regex(r"[0-9]{6,12}", fullmatch=True),  # a TOTP code, a PIN: digits, like durations
    st.text(alphabet=_ALPHABET, min_size=6, max_size=24).filter(lambda s: any(c in _SPECIAL for c in s)),
)
short_digits = st.from_regex(r"[0-9]{2,5}", fullmatch=True)  # substrings of the numbers the run prints


@pytest.fixture(scope="module")
def baseline(server, echo_flow) -> str:
    """Every output of a run with other secrets: a drawn secret found in it is part of the report's
    own text (a word, a placeholder), not a leak."""
    out = run_in_process(server, echo_flow, {"client_secret": "Aa1" * 5, "password": "Bb2" * 5, "otp": "Cc3" * 5},
                         session="Dd4" * 6)
    return "\n".join(out.values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(client_secret=long_secrets, password=long_secrets, session=long_secrets,
       otp=st.one_of(long_secrets, short_digits))
def test_random_secrets_never_reach_a_report_and_never_break_one(server, echo_flow, baseline, client_secret,
                                                                  password, session, otp):
    longs = {"client secret": client_secret, "password": password, "session": session}
    if len(otp) >= 6:
        longs["otp"] = otp
    for value in longs.values():
        assume(not any(f in baseline for f in (value, visible(value), visible(value, multiline=True))))
    out = run_in_process(server, echo_flow, {"client_secret": client_secret, "password": password, "otp": otp},
                         session=session)
    data, _root = parse_all(out)  # every report parses
    for what, value in longs.items():
        assert not _leaks(value, out), f"{what} {value!r} leaked into {_leaks(value, out)}"
    # a short code is also part of the report's own numbers (durations, statuses): it is in no string
    assert not any(otp in _PLACEHOLDER.sub("", text) for text in _strings(data)), otp
    assert [s["status"] for s in data["flows"][0]["scenarios"][0]["steps"]] == [200, 400]
