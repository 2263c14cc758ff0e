"""flowdoc verify against a hostile server (issues 14 and 16).

A real HTTP server on 127.0.0.1 (tests/support/hostile_server.py) hangs, dribbles bytes, floods,
sends compression bombs, deep or broken JSON, redirect loops, redirects to other origins, resets,
over-long headers and terminal escapes. Each case runs ``python3 -m flowdoc verify`` in a fresh
process, as a user would, and checks that the run

* ends within the documented timeout, which bounds the whole exchange (connect, headers, body);
* exits 1 (the answer is wrong) or 3 (the server could not be talked to), never with a traceback
  or an "internal error", and names the problem;
* peaks under 200 MB of memory (the verify process's own maximum RSS, from os.wait4);
* sends nothing to another origin, and never shows the client secret.

No mocks; nothing but 127.0.0.1 is contacted (``attacker.invalid`` is refused before connecting).
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from flowdoc.verify._challenge import parse_challenges, www_authenticate_params
from flowdoc.verify._forms import parse_page
from flowdoc.verify._limits import MAX_BODY, MAX_JSON_DEPTH, content_codings, decoded, json_depth, parse_json
from tests.support.hostile_server import Conn, HostileServer, http_response, json_response, record_only, routes
from tests.support.tls import TestCA

ROOT = Path(__file__).resolve().parent.parent
SECRET = "hostile-" + secrets.token_urlsafe(18)
MAX_RSS_MB = 200
HANG_GUARD = 90  # seconds: a run still going then is killed and the test fails
SLOW = 2.0  # --timeout of the cases where the server is slow
TIMEOUT = 10.0  # --timeout (the default) of the others
SLACK = 3.0  # scheduling slack over the timeout for one exchange on a busy machine

FLOW = """id: hostile
title: A token request to a hostile server
version: "1.0.0"
actors:
  client: {{name: Client, kind: client}}
  api: {{name: API, kind: authorization-server, base_url: "${{inputs.api}}"}}
inputs:
  api: {{description: Base URL of the API}}
  client_id: {{description: Client id, default: hostile-client}}
  client_secret: {{description: Client secret, secret: true}}
  token: {{description: A bearer token, secret: true, default: bearer-token-value-123}}
states:
  - {{id: start, initial: true}}
  - {{id: done, terminal: true}}
transitions:
  - id: get_token
    from: start
    to: done
    by: client -> api
    title: Request a token with the client credentials
    request:
      method: {method}
      path: /token
{auth}
      follow_redirects: true
    response: {response}
"""
POST_SECRET = "      auth: client_secret_post\n      form: {grant_type: client_credentials}"
BASIC_SECRET = "      auth: client_secret_basic\n      form: {grant_type: client_credentials}"
BEARER = "      auth: bearer\n      token: ${inputs.token}"
TOKEN_RESPONSE = "{status: 200, fields: [access_token]}"


def write_flow(folder: Path, *, method: str = "POST", auth: str = POST_SECRET, response: str = TOKEN_RESPONSE) -> Path:
    path = folder / "hostile.yaml"
    path.write_text(FLOW.format(method=method, auth=auth, response=response))
    return path


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    junit: str
    report: dict
    elapsed: float
    max_rss_mb: float

    @property
    def outputs(self) -> str:
        return "\n".join([self.stdout, self.stderr, self.junit, json.dumps(self.report)])

    @property
    def exchange_seconds(self) -> float:
        """The longest exchange verify recorded (each step's duration)."""
        steps = [st for f in self.report["flows"] for s in f["scenarios"] for st in s["steps"]]
        return max(st["duration"] for st in steps)


# Runs verify and reports its peak RSS. Linux counts the memory of the process that forked a child
# in the child's ru_maxrss (the pre-exec image), so a child forked by a large pytest process would
# report pytest's size: this small launcher forks verify instead, and waits for it with os.wait4.
LAUNCHER = """
import os, subprocess, sys, threading
limit, rss_file, *args = sys.argv[1:]
child = subprocess.Popen(args)
guard = threading.Timer(float(limit), child.kill)
guard.start()
_pid, status, usage = os.wait4(child.pid, 0)
guard.cancel()
child.returncode = code = os.waitstatus_to_exitcode(status)
with open(rss_file, "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(code if code >= 0 else 128 - code)
"""


def run_verify(folder: Path, flow: Path, api: str, *extra: str, timeout: float = TIMEOUT) -> Run:
    """`python3 -m flowdoc verify` in its own process, with its peak RSS (see LAUNCHER)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDOC_")}
    env.update({"NO_COLOR": "1", "PYTHONPATH": str(ROOT), "FLOWDOC_CLIENT_SECRET": SECRET})
    junit, report, out, err, rss = (folder / n for n in ("junit.xml", "report.json", "stdout.txt", "stderr.txt",
                                                         "maxrss.txt"))
    args = [sys.executable, "-m", "flowdoc", "verify", str(flow), "--input", f"api={api}", "--timeout", str(timeout),
            "--junit", str(junit), "--report-json", str(report), *extra]
    with out.open("wb") as o, err.open("wb") as e:
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-c", LAUNCHER, str(HANG_GUARD), str(rss), *args], cwd=folder,
                              env=env, stdout=o, stderr=e, timeout=HANG_GUARD + 30)
    elapsed = time.monotonic() - started
    assert elapsed < HANG_GUARD, f"verify was still running after {HANG_GUARD} s"
    return Run(proc.returncode, out.read_text(errors="replace"), err.read_text(errors="replace"),
               junit.read_text(errors="replace") if junit.exists() else "",
               json.loads(report.read_text()) if report.exists() else {}, elapsed,
               int(rss.read_text()) / 1024)


def assert_named(run: Run, code: int, *phrases: str) -> None:
    """Exit code, the problem named (in the details or the progress line), nothing leaked or crashed."""
    shown = run.stdout + run.stderr
    assert run.code == code, shown
    for phrase in phrases:
        assert phrase in shown, shown
    assert "Traceback" not in shown and "internal error" not in run.outputs
    assert SECRET not in run.outputs
    assert run.max_rss_mb < MAX_RSS_MB, f"peak RSS {run.max_rss_mb:.0f} MB"
    assert run.report["exit_code"] == code


# ------------------------------------------------------------------ hostile answers


def _hang(conn: Conn) -> None:
    conn.hang()


def _slow_headers(conn: Conn) -> None:  # 100 KB of headers, one byte every 20 ms: ~35 minutes
    conn.dribble(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: " + b"a" * 100_000 + b"\r\n\r\n{}",
                 delay=0.02)


def _slow_body(conn: Conn) -> None:  # headers at once, then 100 KB of body, one byte every 20 ms
    body = b'{"access_token": "' + b"a" * 100_000 + b'"}'
    if conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)):
        conn.dribble(body, delay=0.02)


def _big_body(conn: Conn) -> None:  # 100 MB, as fast as verify reads
    size = 100 * 1024 * 1024
    conn.stream(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % size, size)


_BOMB: list[bytes] = []


def gzip_bomb() -> bytes:
    """1 GiB of zeros, gzipped twice: about 2 KB on the wire (``Content-Encoding: gzip, gzip``)."""
    if not _BOMB:
        inner = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = b"\0" * (1 << 20)
        once = b"".join([*(inner.compress(zeros) for _ in range(1024)), inner.flush()])
        _BOMB.append(gzip.compress(once, 9))
    return _BOMB[0]


def _gzip_bomb(conn: Conn) -> None:
    conn.send(http_response(200, gzip_bomb(), [("Content-Type", "application/json"),
                                               ("Content-Encoding", "gzip, gzip")]))


def _redirect_loop(conn: Conn) -> None:
    assert conn.request is not None
    conn.send(http_response(307, b"", [("Location", conn.request.path)]))


def _to(location: Callable[[Conn], str], status: int = 307) -> Callable[[Conn], None]:
    def handler(conn: Conn) -> None:
        conn.send(http_response(status, b"", [("Location", location(conn)),
                                              ("Set-Cookie", "sid=session-cookie-from-a; Path=/")]))
    return handler


def _reset(conn: Conn) -> None:
    conn.reset()


HOSTILE_ANSI = b"\x1b[2J\x1b[H\x1b[32mPASS all scenarios\x1b[0m\x00\x07\x1b]0;owned\x07\r\n" * 20


@pytest.fixture(scope="module")
def recorder():
    """Another origin (another port on 127.0.0.1): must never receive anything from the cases."""
    with HostileServer(record_only) as srv:
        yield srv


@pytest.fixture(scope="module")
def hostile(recorder):
    gzip_bomb()  # built before serving, so that building it is not timed as the server's answer
    table = {
        "hang": _hang,
        "slow-headers": _slow_headers,
        "slow-body": _slow_body,
        "big-body": _big_body,
        "gzip-bomb": _gzip_bomb,
        "deep-json": lambda c: c.send(json_response(200, b"[" * 10_000 + b"]" * 10_000)),
        "deeper-json": lambda c: c.send(json_response(200, b'{"a":' * 100_000 + b"1" + b"}" * 100_000)),
        "invalid-json": lambda c: c.send(json_response(200, b'{"access_token": "at-1", ')),
        "redirect-loop": _redirect_loop,
        "other-origin-307": _to(lambda c: f"{recorder.url}/token"),
        "other-origin-308": _to(lambda c: f"{recorder.url}/token", 308),
        "to-http-host": _to(lambda c: "http://attacker.invalid/token"),
        "to-http-host-302": _to(lambda c: "http://attacker.invalid/steal", 302),
        "reset": _reset,
        "5xx": lambda c: c.send(json_response(503, b'{"error": "temporarily_unavailable"}')),
        "non-utf8": lambda c: c.send(json_response(200, b'{"access_token": "\xff\xfe\xc0\xaf"}')),
        "huge-header": lambda c: c.send(http_response(200, b"{}", [("Content-Type", "application/json"),
                                                                  ("X-Huge", "h" * 200_000)])),
        "ansi-nul": lambda c: c.send(http_response(200, HOSTILE_ANSI, [("Content-Type", "text/plain")])),
        "ansi-nul-json": lambda c: c.send(json_response(200, b'{"error": "\x1b[2J\x00"}')),
        "quadratic-html": lambda c: c.send(http_response(200, b"<html><title>Sign in</title>" + b"<a " * 1_000_000,
                                                         [("Content-Type", "text/html")])),
        "hostile-challenge": lambda c: c.send(json_response(
            401, b'{"error": "invalid_client"}',  # both headers stay under h11's 100 KB for all headers
            ("WWW-Authenticate", "Bearer " + "a" * 60_000),
            ("WWW-Authenticate", 'Bearer realm="' + "\\a" * 15_000))),
        "truncated": lambda c: c.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                      b"Content-Length: 1000\r\nConnection: close\r\n\r\n{\"access_"),
        "not-http": lambda c: c.send(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"),
    }
    with HostileServer(routes(table)) as srv:
        yield srv


# case: (route, expected exit code, phrases, --timeout, response spec of the step)
CASES = {
    "hang": ("hang", 1, ["no response within 2 s"], SLOW, TOKEN_RESPONSE),
    "slow headers": ("slow-headers", 1, ["the response headers did not arrive within 2 s"], SLOW, TOKEN_RESPONSE),
    "slow body": ("slow-body", 1, ["the response body did not arrive within 2 s"], SLOW, TOKEN_RESPONSE),
    "100 MB body": ("big-body", 1, ["response body larger than 10 MB"], TIMEOUT, TOKEN_RESPONSE),
    "gzip bomb": ("gzip-bomb", 1, ["response body larger than 10 MB after decompression"], TIMEOUT, TOKEN_RESPONSE),
    "deep JSON": ("deep-json", 1, [f"JSON nested deeper than {MAX_JSON_DEPTH} levels"], TIMEOUT, TOKEN_RESPONSE),
    "deeper JSON": ("deeper-json", 1, [f"JSON nested deeper than {MAX_JSON_DEPTH} levels"], TIMEOUT, TOKEN_RESPONSE),
    "invalid JSON": ("invalid-json", 1, ["not valid JSON"], TIMEOUT, TOKEN_RESPONSE),
    "redirect loop": ("redirect-loop", 1, ["redirect loop: more than 10 redirects"], TIMEOUT, TOKEN_RESPONSE),
    "307 to another origin": ("other-origin-307", 1, ["to another origin", "nothing was sent there"], TIMEOUT,
                              TOKEN_RESPONSE),
    "308 to another origin": ("other-origin-308", 1, ["to another origin"], TIMEOUT, TOKEN_RESPONSE),
    "307 to plain http": ("to-http-host", 1, ["to plain http on a host that is not loopback",
                                              "nothing was sent there"], TIMEOUT, TOKEN_RESPONSE),
    "302 to plain http": ("to-http-host-302", 1, ["to plain http on a host that is not loopback"], TIMEOUT,
                          TOKEN_RESPONSE),
    "reset": ("reset", 3, ["connection reset or closed by the server"], TIMEOUT, TOKEN_RESPONSE),
    "5xx": ("5xx", 1, ["status: expected 200, got 503"], TIMEOUT, TOKEN_RESPONSE),
    "non-UTF-8": ("non-utf8", 1, ["not valid UTF-8 (byte 0xff at offset 18)"], TIMEOUT, TOKEN_RESPONSE),
    "huge header": ("huge-header", 1, ["the response headers are too long (more than 100 KB)"], TIMEOUT,
                    TOKEN_RESPONSE),
    "ANSI and NUL": ("ansi-nul", 1, ["body: expected JSON, got not JSON (text/plain, 960 bytes)"], TIMEOUT,
                     TOKEN_RESPONSE),
    "ANSI and NUL in JSON": ("ansi-nul-json", 1, ["not valid JSON"], TIMEOUT, TOKEN_RESPONSE),
    "quadratic HTML": ("quadratic-html", 1, ["form: expected an HTML page with a form, got no form in the body"],
                       TIMEOUT, "{status: 200, form: true}"),
    "hostile WWW-Authenticate": ("hostile-challenge", 1, ["status: expected 200, got 401",
                                                          "invalid_client (body)"], TIMEOUT, TOKEN_RESPONSE),
    "body cut short": ("truncated", 1, ["the server broke off the response body"], TIMEOUT, TOKEN_RESPONSE),
    "not HTTP": ("not-http", 1, ["the response is not valid HTTP/1.1"], TIMEOUT, TOKEN_RESPONSE),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_server_case_ends_in_time_with_a_named_problem(case, hostile, recorder, tmp_path):
    route, code, phrases, timeout, response = CASES[case]
    flow = write_flow(tmp_path, response=response)
    run = run_verify(tmp_path, flow, f"{hostile.url}/{route}", timeout=timeout)
    assert_named(run, code, *phrases)
    assert run.exchange_seconds <= timeout + SLACK, run.report
    if timeout == SLOW:  # the server would go on for half an hour: the exchange ends at the deadline
        assert run.exchange_seconds >= SLOW - 0.1 and run.elapsed < 30, (run.exchange_seconds, run.elapsed)
    assert recorder.connections == 0  # nothing, not even a connection, went to the other origin
    ET.fromstring(run.junit)  # the JUnit file is well-formed XML, also with ANSI escapes and NUL in bodies


# ------------------------------------------------------------------ redirects and origins


def test_a_credentialed_redirect_to_another_origin_sends_nothing_there(hostile, recorder, tmp_path):
    """Issue 16: a token endpoint answering 307/308 to another port of 127.0.0.1 made verify
    re-post client_id and client_secret there. Now nothing at all reaches the other origin,
    whatever the client authentication."""
    before = len(hostile.requests)
    for auth in (POST_SECRET, BASIC_SECRET):
        for route in ("other-origin-307", "other-origin-308"):
            flow = write_flow(tmp_path, auth=auth)
            run = run_verify(tmp_path, flow, f"{hostile.url}/{route}")
            assert_named(run, 1, f"to another origin ({recorder.url})", "nothing was sent there")
    assert recorder.connections == 0 and recorder.requests == []
    assert len(hostile.requests) - before == 4  # one request each, no re-post anywhere


def test_a_redirect_without_a_body_is_followed_to_another_origin_without_credentials(tmp_path):
    """A GET (bearer token, and a cookie the redirect itself set) redirected to another origin is
    followed the way browsers do: without the Authorization header, without cookies, without body."""
    with HostileServer(record_only) as other:
        def redirect(conn: Conn) -> None:
            conn.send(http_response(302, b"", [("Location", f"{other.url}/landing?x=1"),
                                               ("Set-Cookie", "sid=session-cookie-from-a; Path=/")]))

        with HostileServer(routes({"go": redirect})) as first:
            flow = write_flow(tmp_path, method="GET", auth=BEARER, response="{status: 200}")
            run = run_verify(tmp_path, flow, f"{first.url}/go")
        assert run.code == 0, run.stdout
        assert first.requests[0].headers["authorization"] == "Bearer bearer-token-value-123"
        (got,) = other.requests
        assert (got.method, got.path, got.body) == ("GET", "/landing?x=1", b"")
        assert "authorization" not in got.headers and "cookie" not in got.headers
        assert b"bearer-token-value-123" not in got.raw and b"session-cookie" not in got.raw


def test_a_redirect_within_the_origin_keeps_method_body_and_credentials(tmp_path):
    def moved(conn: Conn) -> None:
        conn.send(http_response(307, b"", [("Location", "/real/token")]))

    def real(conn: Conn) -> None:
        conn.send(json_response(200, b'{"access_token": "at-from-the-real-endpoint", "token_type": "Bearer"}'))

    with HostileServer(routes({"moved": moved, "real": real})) as srv:
        run = run_verify(tmp_path, write_flow(tmp_path), f"{srv.url}/moved")
    assert run.code == 0, run.stdout
    first, second = srv.requests
    assert (second.method, second.path) == ("POST", "/real/token")
    assert second.body == first.body and b"client_secret=" in second.body
    assert SECRET not in run.outputs and "at-from-the-real-endpoint" not in run.outputs


def test_https_never_redirects_to_http(tmp_path):
    """A redirect from https to plain http is refused before anything is sent, even to loopback."""
    ca = TestCA.create(tmp_path)
    cert = ca.issue(tmp_path, "server")
    with HostileServer(record_only) as plain:
        downgrade = _to(lambda c: f"{plain.url}/token")
        with HostileServer(routes({"down": downgrade}), tls=(cert.cert, cert.key)) as tls:
            run = run_verify(tmp_path, write_flow(tmp_path), f"{tls.url}/down", "--ca-bundle", str(ca.cert))
        assert_named(run, 1, "from https to plain http", "nothing was sent there")
        assert plain.connections == 0


# ------------------------------------------------------------------ the parsers, on hostile input


def ends(fn: Callable[[], object], limit: float = 30.0) -> object:
    """Run fn in a thread; fail if it is still running after ``limit`` seconds (a hang guard)."""
    box: list[object] = []
    thread = threading.Thread(target=lambda: box.append(fn()), daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"still running after {limit} s"
    return box[0]


CRAFTED_CHALLENGES = [
    "a" * 100_000,  # the old pattern backtracked over every start: minutes for this one header
    "Bearer " + "a" * 100_000,
    "Bearer realm=" + "x" * 100_000,
    'Bearer realm="' + "\\a" * 50_000,  # unterminated, every character escaped
    'Bearer realm="' + "\\" * 100_001,
    "Bearer " + "a=," * 33_000,
    "Bearer " + "a " * 50_000,
    '"' * 100_000,
    "=" * 100_000,
]


@pytest.mark.parametrize("header", CRAFTED_CHALLENGES, ids=range(len(CRAFTED_CHALLENGES)))
def test_www_authenticate_parser_is_linear_on_crafted_headers(header):
    ends(lambda: www_authenticate_params(header))


def test_www_authenticate_parser_reads_rfc7235_challenges():
    got = parse_challenges('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"')
    assert [(c.scheme, c.params) for c in got] == [
        ("Newauth", {"realm": "apps", "type": "1", "title": 'Login to "apps"'}),
        ("Basic", {"realm": "simple"})]
    assert [(c.scheme, c.token68) for c in parse_challenges("Negotiate YII=, Bearer")] == [
        ("Negotiate", "YII="), ("Bearer", None)]
    assert www_authenticate_params('Bearer error = "invalid_token" ,ERROR_description="x, y"') == {
        "error": "invalid_token", "error_description": "x, y"}
    assert www_authenticate_params("DPoP algs=\"ES256 PS256\", Bearer error=insufficient_scope") == {
        "algs": "ES256 PS256", "error": "insufficient_scope"}
    assert www_authenticate_params('Bearer realm="unterminated') == {"realm": "unterminated"}
    assert www_authenticate_params("realm=orphan, ,, Bearer") == {}


def test_json_depth_is_found_before_parsing():
    assert json_depth('{"a": [1, {"b": "[[[[\\"]]]]"}]}') == 3
    assert json_depth('"\\\\" [') == 1 and json_depth("") == 0
    assert parse_json(b"[" * 10_000 + b"]" * 10_000) == (None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    assert parse_json(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)[1] is None
    assert parse_json(b'{"a": "\xff"}') == (None, "not valid UTF-8 (byte 0xff at offset 7)")
    assert parse_json(b'{"a": ')[1].startswith("not valid JSON (Expecting value")
    assert parse_json(b'{"n": ' + b"1" * 5000 + b"}")[1].startswith("not valid JSON")  # int digits limit
    ends(lambda: json_depth('"' + '\\"' * 1_000_000))  # an unterminated string of escaped quotes


def test_decoding_is_bounded_before_the_body_is_expanded():
    bomb = gzip_bomb()
    from httpx import Headers

    codings = content_codings(Headers({"content-encoding": "gzip, gzip"}))
    size = 0
    for piece in decoded([bomb[i:i + 512] for i in range(0, len(bomb), 512)], codings):
        assert len(piece) <= 64 * 1024
        size += len(piece)
        if size > MAX_BODY:
            break
    assert size > MAX_BODY  # the caller stops here: 10 MB of the 1 GiB were decoded
    plain = b'{"access_token": "x"}' * 1000
    two_members = gzip.compress(plain[:500]) + gzip.compress(plain[500:])
    for coding, data in (("gzip", gzip.compress(plain)), ("deflate", zlib.compress(plain)),
                         ("deflate", zlib.compress(plain)[2:-4]), ("gzip", two_members)):
        assert b"".join(decoded([data], content_codings(Headers({"content-encoding": coding})))) == plain
    with pytest.raises(Exception, match="cannot decode"):
        content_codings(Headers({"content-encoding": "br"}))
    with pytest.raises(Exception, match="4 Content-Encoding layers"):
        content_codings(Headers({"content-encoding": "gzip, gzip, gzip, gzip"}))


def test_a_signed_jwt_with_deep_json_is_a_problem_not_a_crash():
    """The server signs what it likes: a valid signature over claims nested 40,000 deep (within
    joserfc's 128 KB payload limit, far past Python's recursion limit)."""
    from joserfc import jws
    from joserfc.jwk import RSAKey

    from flowdoc.verify._jwt import JwksCache, verify_jwt

    key = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256"})
    cache = JwksCache(lambda url: {"keys": [key.as_dict(private=False)]})
    deep = jws.serialize_compact({"alg": "RS256", "kid": "k1"}, b'{"a":' + b"[" * 40_000 + b"]" * 40_000 + b"}", key)
    claims, problems = verify_jwt(deep, jwks_url="u", cache=cache, check_exp=False)
    assert claims is None and [(p.what, p.actual) for p in problems] == [("JWT", "nested deeper")]
    fine = jws.serialize_compact({"alg": "RS256", "kid": "k1"}, b'{"sub": "s", "a": [[[1]]]}', key)
    assert verify_jwt(fine, jwks_url="u", cache=cache, check_exp=False) == ({"sub": "s", "a": [[[1]]]}, [])


HOSTILE_PAGES = [
    "<a " * 300_000,  # html.parser: ~14 s for 50 KB of this, quadratic
    "<!--" + "a" * 1_000_000,
    '<input name="x" value="' + "v" * 1_000_000,
    "&#" + "9" * 100_000 + ";" + "&" * 500_000,  # html.unescape fails on the first one
    '<div class="error">' * 100_000,
    "<title>" + "t" * 1_000_000,
    "</" * 500_000 + "<" * 500_000,
    "<script>" + "</scrip" * 100_000,
]


@pytest.mark.parametrize("page", HOSTILE_PAGES, ids=range(len(HOSTILE_PAGES)))
def test_html_pages_are_read_in_linear_time(page):
    result = ends(lambda: parse_page(page))
    assert len(result.title) <= 200 and len(result.errors) <= 20


def test_html_tokenizer_reads_what_browsers_read():
    page = parse_page('<FORM Method=POST action=/go?a=1&amp;b=2><INPUT name=a value=one name=b>'
                      "<input name='q' value='it&#39;s' type=TEXT><input name=x value=&#x1F600;>"
                      "<input name=huge value=&#99999999999999;><!-- <input name=hidden> -->"
                      "<script>var s = '<input name=js>';</script><textarea name=t><b>&lt;</b></textarea>"
                      "</form><form><input name=open")
    form, last = page.forms
    assert (form.method, form.action) == ("POST", "/go?a=1&b=2")
    assert form.fields == {"a": "one", "q": "it's", "x": "\U0001F600", "huge": "\ufffd", "t": "<b><</b>"}
    assert last.fields == {}  # a tag still open at the end of the page is dropped
