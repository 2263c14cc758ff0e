"""``flowdoc verify --repeat N``: the selected plan N times over one connection pool, against real
servers: the oidc-provider test server behind counting proxies (requests and connections counted at
the server side), and a small real HTTP server whose token endpoint accepts the client every other
time (a flaky server). Flaky scenarios, the first failure with its iterations, JUnit names, the JSON
report, coverage over iterations, proofs from the first iteration, the data a long run keeps, exit
codes, no secret anywhere, and ``--repeat 1`` giving what a run without it gives."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from benchmarks._proxy import LatencyProxy
from flowdoc.proofs import proof_text
from flowdoc.verify import FLAKY, MAX_REPEAT, Verifier, VerifyError, VerifyOptions, load_flows
from tests.helpers import ROOT, run_verify
from tests.support.hostile_http import HostileServer, Seen

pytestmark = pytest.mark.node

TOKEN_API = ROOT / "benchmarks" / "flows" / "token-api.yaml"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}")


def _flow(tmp_path: Path) -> Path:
    dest = tmp_path / "flows"
    dest.mkdir()
    shutil.copy(TOKEN_API, dest / "token-api.yaml")
    return dest


def _args(flows: Path, token_url: str, api_url: str, *extra: str) -> list[str]:
    return [str(flows), "--input", f"token_url={token_url}", "--input", f"api_url={api_url}",
            "--input", "client_id=flowdoc-service", *extra]


def _host_port(url: str) -> tuple[str, int]:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    return host, int(port)


class _RecordingProxy(LatencyProxy):
    """The counting proxy, also keeping what the server answered (to find the tokens it issued)."""

    def __init__(self, host: str, port: int):
        super().__init__(host, port)
        self.answered = bytearray()

    async def _pipe(self, reader, writer) -> None:
        while data := await reader.read(65536):
            self.answered += data
            writer.write(data)
            await writer.drain()
        writer.close()


def _no_secret(texts: dict[str, str], values: list[str]) -> None:
    for name, text in texts.items():
        for value in values:
            assert value not in text, f"a secret in {name}"
        assert not JWT.search(text), f"a JWT in {name}"


# ------------------------------------------------------------------ the real provider


def test_repeat_runs_every_scenario_n_times_over_reused_connections(oidc_server_verify, tmp_path):
    srv = oidc_server_verify
    secret = srv.secrets["flowdoc-service"]
    flows = _flow(tmp_path)
    with _RecordingProxy(*_host_port(srv.issuer)) as auth, _RecordingProxy(*_host_port(srv.resource)) as api:
        r = run_verify(_args(flows, auth.url, api.url, "--repeat", "3", "--junit", str(tmp_path / "j.xml"),
                             "--report-json", str(tmp_path / "r.json")), env={"FLOWDOC_CLIENT_SECRET": secret})
        assert r.returncode == 0, r.stdout + r.stderr
        # counted at the servers: 3 iterations of (token, API call, wrong-secret token) on one connection each
        assert (auth.requests, api.requests) == (6, 3)
        assert (auth.connections, api.connections) == (1, 1)
        tokens = re.findall(rb'"access_token":"([^"]+)"', bytes(auth.answered))
    assert len(tokens) == 3 and len(set(tokens)) == 3  # a fresh token each iteration
    assert "6 scenario runs (2 scenarios × 3 iterations): 6 passed, 0 failed, 0 errors, 0 skipped" in r.stdout
    assert re.search(r"token-api\s+happy-path\s+happy\s+passed\s+3/3", r.stdout)
    assert "flaky" not in r.stdout
    assert "iteration 1/3" in r.stderr and "iteration 3/3" in r.stderr and "PASS" not in r.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"] == {"scenarios": 2, "iterations": 3, "runs": 6, "passed": 6, "failed": 0, "errors": 0,
                                 "skipped": 0, "warnings": 0, "flaky": 0}
    assert report["options"]["repeat"] == 3
    runs = report["flows"][0]["scenarios"]
    assert [(s["id"], s["iteration"]) for s in runs] == [
        (f"token-api/{n}", i) for i in (1, 2, 3) for n in ("happy-path", "bad_secret")]
    assert [s["abridged"] for s in runs] == [False, False, True, True, True, True]
    assert [(a["id"], a["status"], a["passed"], a["runs"]) for a in report["flows"][0]["aggregate"]] == [
        ("token-api/happy-path", "passed", 3, 3), ("token-api/bad_secret", "passed", 3, 3)]
    assert report["flows"][0]["coverage"]["transitions"]["exercised"] == 2
    junit = ET.parse(tmp_path / "j.xml").getroot()
    assert junit.get("tests") == "6"
    assert [c.get("name") for c in junit.iter("testcase")] == [
        f"{n} [{i}/3]" for i in (1, 2, 3) for n in ("happy-path", "bad_secret")]
    texts = {"stdout": r.stdout, "stderr": r.stderr, "junit": (tmp_path / "j.xml").read_text(),
             "json": (tmp_path / "r.json").read_text()}
    _no_secret(texts, [secret, *(t.decode() for t in tokens)])


def test_repeat_1_gives_what_a_run_without_it_gives(oidc_server_verify, tmp_path):
    srv = oidc_server_verify
    flows = _flow(tmp_path)
    env = {"FLOWDOC_CLIENT_SECRET": srv.secrets["flowdoc-service"]}
    out = {}
    for name, extra in (("plain", []), ("once", ["--repeat", "1"])):
        r = run_verify(_args(flows, srv.issuer, srv.resource, *extra, "--report-json", str(tmp_path / f"{name}.json"),
                             "--junit", str(tmp_path / f"{name}.xml")), env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        times = re.compile(r"\d+\.\d+ ?s\b|time=\"[0-9.]+\"|timestamp=\"[^\"]+\"")
        out[name] = (_untimed(json.loads((tmp_path / f"{name}.json").read_text())), times.sub("T", r.stdout),
                     times.sub("T", r.stderr), times.sub("T", (tmp_path / f"{name}.xml").read_text()))
    assert out["once"] == out["plain"]
    assert "iteration" not in (tmp_path / "once.json").read_text()


def _untimed(data):
    if isinstance(data, dict):
        return {k: _untimed(v) for k, v in data.items() if k not in ("duration", "started")}
    if isinstance(data, list):
        return [_untimed(v) for v in data]
    return data


def test_jobs_run_inside_each_iteration(oidc_server_verify, tmp_path):
    srv = oidc_server_verify
    options = VerifyOptions(inputs={"token_url": srv.issuer, "api_url": srv.resource, "client_id": "flowdoc-service"},
                            env={"FLOWDOC_CLIENT_SECRET": srv.secrets["flowdoc-service"]}, jobs=2, repeat=3)
    events: list[tuple[str, object]] = []
    with Verifier(options) as v:
        result = v.run(load_flows([_flow(tmp_path)]), on_event=lambda kind, payload: events.append((kind, payload)))
    assert result.exit_code == 0 and result.iterations == 3
    assert [s.iteration for s in result.scenarios] == [1, 1, 2, 2, 3, 3]
    kinds = [k for k, _p in events if k != "start"]
    assert kinds == ["iterations", "plan"] + ["iteration", "done", "done"] * 3
    # every run of an iteration is done before the next iteration starts
    assert [p for k, p in events if k == "iteration"] == [1, 2, 3]


# ------------------------------------------------------------------ a flaky server


class _FlakyServer:
    """A token endpoint that accepts the client's right secret every other time (the 2nd, 4th ...
    request with it answer 401 invalid_client, as after a rotation), and an API taking its tokens."""

    def __init__(self, secret: str):
        self.secret = secret
        self.lock = threading.Lock()
        self.good = 0  # requests with the right secret
        self.issued: list[str] = []
        self.server = HostileServer({("POST", "/token"): self.token, ("GET", "/api/me"): self.me})

    def __enter__(self) -> "_FlakyServer":
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)

    @property
    def url(self) -> str:
        return self.server.url

    def token(self, seen: Seen):
        auth = seen.headers.get("authorization", "")
        basic = base64.b64decode(auth[6:]).decode() if auth.startswith("Basic ") else ""
        rejected = (401, [("Content-Type", "application/json")], '{"error": "invalid_client"}')
        if basic.partition(":")[2] != self.secret:
            return rejected
        with self.lock:
            self.good += 1
            if self.good % 2 == 0:
                return rejected
            tok = "tok-" + secrets.token_urlsafe(24)
            self.issued.append(tok)
        body = json.dumps({"access_token": tok, "token_type": "Bearer", "expires_in": 60, "scope": "api:read"})
        return 200, [("Content-Type", "application/json")], body

    def me(self, seen: Seen):
        if seen.headers.get("authorization", "")[7:] in self.issued:
            return 200, [("Content-Type", "application/json")], '{"sub": "svc", "scope": "api:read"}'
        return 401, [("Content-Type", "application/json")], '{"error": "invalid_token"}'


def test_a_scenario_that_passes_in_some_iterations_only_is_flaky(tmp_path):
    secret = "fd-" + secrets.token_urlsafe(18)
    flows = _flow(tmp_path)
    with _FlakyServer(secret) as srv:
        r = run_verify(_args(flows, srv.url, srv.url, "--repeat", "4", "--junit", str(tmp_path / "j.xml"),
                             "--report-json", str(tmp_path / "r.json")), env={"FLOWDOC_CLIENT_SECRET": secret})
        issued = list(srv.issued)
    assert r.returncode == 1, r.stdout + r.stderr
    assert len(issued) == 2  # iterations 1 and 3
    out = r.stdout
    assert "8 scenario runs (2 scenarios × 4 iterations): 6 passed, 2 failed, 0 errors, 0 skipped, 1 flaky" in out
    assert "flaky (passed in some iterations, failed in others):\n  token-api/happy-path: passed 2 of 4 iterations" in out
    assert re.search(r"token-api\s+happy-path\s+happy\s+flaky\s+2/4", out)
    assert re.search(r"token-api\s+bad_secret\s+failure\s+passed\s+4/4", out)
    # the first failure once, naming the iterations
    assert out.count("FAILED token-api/happy-path") == 1 and "FAILED token-api/bad_secret" not in out
    assert "  iteration 2 of 4; also failed in iteration 4 (failed in 2 of 4 iterations)" in out
    assert "response:" in out and "invalid_client" in out  # the first failure keeps its excerpts
    # coverage: request_token did not hold in iterations 2 and 4; call_api held wherever it ran
    assert "not proven in every iteration: request_token" in out
    # progress: the first failure as it happened, a line per iteration; no line per run
    err = r.stderr
    assert "[iteration 2/4] token-api/happy-path" in err and "[iteration 4/4]" not in err
    assert [line.split(":")[0].strip() for line in err.splitlines() if line.startswith("  iteration")] == [
        f"iteration {i}/4" for i in (1, 2, 3, 4)]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["exit_code"] == 1
    assert report["summary"]["flaky"] == 1 and report["summary"]["runs"] == 8
    agg = {a["id"]: a for a in report["flows"][0]["aggregate"]}
    assert agg["token-api/happy-path"]["status"] == FLAKY
    assert agg["token-api/happy-path"]["failed_iterations"] == [2, 4]
    assert agg["token-api/bad_secret"]["status"] == "passed"
    elements = {e["id"]: e["result"] for e in report["flows"][0]["coverage"]["elements"]}
    assert elements["transition:request_token"] == "not-run"
    assert elements["transition:call_api"] == "proven"
    assert elements["failure:request_token/bad_secret"] == "proven"
    junit = ET.parse(tmp_path / "j.xml").getroot()
    failed = [c.get("name") for c in junit.iter("testcase") if c.find("failure") is not None]
    assert failed == ["happy-path [2/4]", "happy-path [4/4]"] and junit.get("failures") == "2"
    texts = {"stdout": out, "stderr": err, "junit": (tmp_path / "j.xml").read_text(),
             "json": (tmp_path / "r.json").read_text()}
    _no_secret(texts, [secret, *issued])


def test_a_scenario_failing_in_every_iteration_is_failed_not_flaky(tmp_path):
    secret = "fd-" + secrets.token_urlsafe(18)
    with _FlakyServer(secret) as srv:
        r = run_verify(_args(_flow(tmp_path), srv.url, srv.url, "--repeat", "3"),
                       env={"FLOWDOC_CLIENT_SECRET": "not-the-" + secret})
    assert r.returncode == 1, r.stdout + r.stderr
    assert "flaky" not in r.stdout
    assert re.search(r"token-api\s+happy-path\s+happy\s+failed\s+0/3", r.stdout)
    assert "  iteration 1 of 3; also failed in iterations 2, 3 (failed in 3 of 3 iterations)" in r.stdout


def test_long_runs_keep_the_details_of_the_first_iteration_and_first_failure_only(tmp_path):
    secret = "fd-" + secrets.token_urlsafe(18)
    flows = load_flows([_flow(tmp_path)])
    day = dt.date(2026, 1, 2)
    with _FlakyServer(secret) as srv:
        inputs = {"token_url": srv.url, "api_url": srv.url, "client_id": "flowdoc-service"}
        proofs = {}
        for n in (1, 6):
            srv.good = 0  # the same server, answering the same from the start
            with Verifier(VerifyOptions(inputs=inputs, env={"FLOWDOC_CLIENT_SECRET": secret}, repeat=n,
                                        record=True)) as v:
                result = v.run(flows)
                proofs[n] = [(name, proof_text(p)) for name, p in v.proofs("test", day)]
                exchanges = len(v.recorder.raw_exchanges())
    assert exchanges == 3  # recorded: the first iteration only (token, API, wrong secret)
    assert proofs[6] == proofs[1]  # the proof file a single run writes
    runs = {(s.id.split("/")[1], s.iteration): s for s in result.scenarios}
    assert len(runs) == 12
    for (name, i), s in runs.items():
        whole = i == 1 or (name, i) == ("happy-path", 2)  # the first iteration, the first failure
        assert s.abridged is not whole, (name, i)
        if not whole:  # nothing of the exchanges is kept
            assert (s.steps, s.proven, s.covered_transitions, s.unobserved) == ([], [], [], {}), (name, i)
            assert s.failure is None or (s.failure.request, s.failure.response) == (None, None)
    first = runs[("happy-path", 2)]
    assert first.status == "failed" and first.steps and first.failure.response and "invalid_client" in first.failure.response
    later = runs[("happy-path", 6)]
    assert later.status == "failed" and later.failure is not None and later.failure.message  # its verdict kept
    assert [a.failed_iterations for a in result.aggregates()] == [[2, 4, 6], []]


# ------------------------------------------------------------------ exit codes and usage


def test_an_unreachable_server_in_every_iteration_exits_3(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the test runs: nothing listens there
    url = f"http://127.0.0.1:{port}"
    r = run_verify(_args(_flow(tmp_path), url, url, "--repeat", "2"), env={"FLOWDOC_CLIENT_SECRET": "x" * 12})
    assert r.returncode == 3, r.stdout + r.stderr
    assert "4 scenario runs (2 scenarios × 2 iterations): 0 passed, 0 failed, 4 errors" in r.stdout
    assert "flaky" not in r.stdout


@pytest.mark.parametrize("value", ["0", "10001", "many"])
def test_repeat_out_of_range_is_a_usage_error(tmp_path, value):
    r = run_verify(_args(_flow(tmp_path), "http://127.0.0.1:9", "http://127.0.0.1:9", "--repeat", value))
    assert r.returncode == 2 and "--repeat" in r.stderr and "Traceback" not in r.stderr


def test_the_library_refuses_repeat_below_1():
    with pytest.raises(VerifyError, match="--repeat must be at least 1"):
        Verifier(VerifyOptions(repeat=0))


def test_the_library_refuses_more_iterations_than_the_cli_allows():
    Verifier(VerifyOptions(repeat=MAX_REPEAT)).close()
    with pytest.raises(VerifyError, match=f"--repeat must be at most {MAX_REPEAT}"):
        Verifier(VerifyOptions(repeat=MAX_REPEAT + 1))


# ------------------------------------------------------------------ the pytest plugin


def test_pytest_plugin_makes_an_item_per_scenario_per_iteration(tmp_path):
    secret = "fd-" + secrets.token_urlsafe(18)
    flows = _flow(tmp_path)
    with _FlakyServer(secret) as srv:
        args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:flowdoc",
                "-p", "flowdoc.verify.pytest_plugin", "-v", "--flowdoc-flows", str(flows), "--flowdoc-repeat", "2",
                "--flowdoc-input", f"token_url={srv.url}", "--flowdoc-input", f"api_url={srv.url}",
                "--flowdoc-input", "client_id=flowdoc-service", "--flowdoc-report-json", str(tmp_path / "r.json"),
                "--rootdir", str(tmp_path)]
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "FLOWDOC_CLIENT_SECRET": secret}
        r = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        issued = list(srv.issued)
    out = r.stdout
    assert r.returncode == 1, out + r.stderr
    order = [m.group(1, 2) for m in re.finditer(r"flowdoc::token-api::(\S+)\[(\d-2)\] (PASSED|FAILED)", out)]
    assert order == [("happy-path", "1-2"), ("bad_secret", "1-2"), ("happy-path", "2-2"), ("bad_secret", "2-2")]
    assert "flowdoc::token-api::happy-path[2-2] FAILED" in out and "3 passed" in out and "1 failed" in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"]["runs"] == 4 and report["summary"]["flaky"] == 1 and report["exit_code"] == 1
    _no_secret({"pytest output": out + r.stderr, "json": (tmp_path / "r.json").read_text()}, [secret, *issued])
