"""Pages built with proofs (flowdoc build --proofs DIR): badges, the real exchanges, code tabs, stale
marks, the index's proof column, hostile proof text; the generated curl, Python and JavaScript
samples run against the test server; and the tabs and the badge in a real browser."""

from __future__ import annotations

import ast
import datetime as _dt
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config as load_mkdocs_config

from flowdoc.config import ConfigError, load_config
from flowdoc.model.version import Version
from flowdoc.proofs import ProofRequest, load_proof, write_proofs
from flowdoc.publish import BuildSettings, build_site
from flowdoc.render.labels import ordered_transitions
from flowdoc.render.samples import env_names, request_samples
from flowdoc.verify import Verifier, VerifyOptions, load_flows
from tests.helpers import FLOWS, SITE_CONFIG, copy_flows, example_ids, run_flowdoc
from tests.support.mermaid import node_executable
from tests.support.site_browser import Visit, serve
from tests.support.verify_inputs import secrets_of, verify_values

EXAMPLES = example_ids()
TODAY = _dt.datetime.now(_dt.UTC).date().isoformat()


@pytest.fixture(scope="module")
def proved(oidc_server_verify, tmp_path_factory):
    """Every example flow verified against the test server as 'staging', its proofs written; the
    verifier's inputs kept to fill the code samples' placeholders."""
    srv = oidc_server_verify
    out = tmp_path_factory.mktemp("proved")
    inputs, env = verify_values(srv)
    flows = load_flows([FLOWS])
    verifier = Verifier(VerifyOptions(inputs=inputs, env=env, jobs=6, record=True))
    try:
        assert verifier.run(flows).exit_code == 0
        write_proofs(out / "proofs", verifier.proofs("staging"))
        yield srv, out / "proofs", verifier, flows
    finally:
        verifier.close()


def _build(tmp: Path, proofs: Path | None, *, flows: Path = FLOWS, name: str = "site", **kw) -> Path:
    out = tmp / name / "site"
    build_site(BuildSettings(flows_dir=flows, out_dir=out, config_file=SITE_CONFIG, strict=True,
                             proofs_dir=proofs, cache_dir=tmp / name / "cache", **kw))
    return out


def _latest(flows: list, fid: str):
    return max((f for f in flows if f.id == fid), key=lambda f: Version.key(f.version))


def _html(out: Path, fid: str, page: str = "latest") -> str:
    return (out / fid / page / "index.html").read_text(encoding="utf-8")


# ------------------------------------------------------------------ the built site


def test_every_flow_page_shows_its_badge_real_examples_and_code_tabs(proved, tmp_path):
    srv, proofs, _verifier, flows = proved
    out = _build(tmp_path, proofs)
    for fid in EXAMPLES:
        flow = _latest(flows, fid)
        proof = load_proof(proofs / f"{fid}@{flow.version}.proof.json")
        html = _html(out, fid)
        n = proof.summary.scenarios
        assert f'<a href="#proof">Verified against staging on {TODAY} — {n}/{n} scenarios</a>' in html, fid
        assert 'id="proof"' in html
        http_steps = [t for t in ordered_transitions(flow) if t.is_http and not t.internal]
        assert html.count('class="flowdoc-tabs"') == len(http_steps), fid
        for label in ("HTTP", "curl", "Python", "JavaScript"):
            assert html.count(f'data-flowdoc-label="{label}"') == len(http_steps), (fid, label)
        branches = [f for t in flow.transitions for f in t.failures]
        assert html.count('class="flowdoc-proof-example"') == len(http_steps) + len(branches), fid
        for value in secrets_of(srv).values():
            assert value not in html
    cc = _html(out, "client-credentials")
    assert "-u &#x27;flowdoc-service:&#x27;&quot;$FLOWDOC_CLIENT_SECRET&quot;" in cc or \
        "-u 'flowdoc-service:'\"$FLOWDOC_CLIENT_SECRET\"" in cc
    assert "invalid_scope" in cc and "HTTP/1.1 401 Unauthorized" in cc
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count(f"verified: staging, {TODAY}") == len(EXAMPLES)
    assert 'href="client-credentials/latest/#proof"' in index


def test_a_page_without_a_proof_builds_as_before(proved, tmp_path):
    _srv, proofs, _verifier, flows = proved
    only = tmp_path / "only"
    only.mkdir()
    shutil.copy(proofs / f"client-credentials@{_latest(flows, 'client-credentials').version}.proof.json", only)
    plain = _build(tmp_path, None, name="plain")
    some = _build(tmp_path, only, name="some")
    docs_plain, docs_some = tmp_path / "plain" / "cache" / "docs", tmp_path / "some" / "cache" / "docs"
    compared = 0
    for md in sorted(docs_plain.rglob("*.md")):
        rel = md.relative_to(docs_plain)
        if rel.parts[0] in EXAMPLES and rel.parts[0] != "client-credentials":
            assert (docs_some / rel).read_text() == md.read_text(), rel
            compared += 1
    assert compared >= 8
    assert "flowdoc-proof" not in _html(plain, "client-credentials")
    assert "not verified" in (some / "index.html").read_text() and "flowdoc-proof" in _html(some, "client-credentials")
    # the page of the latest major shows the latest version, the one proven
    cc = _latest(flows, "client-credentials")
    assert "flowdoc-proof-verified" in _html(some, "client-credentials", f"v{Version.of(cc.version).major}")
    # an older major version (authorization-code-pkce.v1.yaml) has no proof of its own: none is borrowed
    pkce = [f for f in flows if f.id == "authorization-code-pkce"]
    majors = sorted({Version.of(f.version).major for f in pkce})
    assert len(majors) >= 2
    full = _build(tmp_path, proofs, name="full")
    assert "flowdoc-proof" not in _html(full, "authorization-code-pkce", f"v{majors[0]}")
    assert "flowdoc-proof-verified" in _html(full, "authorization-code-pkce", f"v{majors[-1]}")


def test_an_edited_flow_or_an_old_proof_reads_as_stale(proved, tmp_path):
    _srv, proofs, _verifier, _flows = proved
    flows = copy_flows(tmp_path / "flows")
    mine = tmp_path / "proofs"
    shutil.copytree(proofs, mine)
    out = _build(tmp_path, mine, flows=flows)
    assert "flowdoc-proof-verified" in _html(out, "client-credentials")
    path = flows / "client-credentials.yaml"
    path.write_text(path.read_text().replace("title: Request an access token with the client credentials",
                                             "title: Ask for an access token with the client credentials", 1))
    gw = next(mine.glob("gateway-login@*.proof.json"))
    data = json.loads(gw.read_text())
    data["date"] = "2020-01-02"
    gw.write_text(json.dumps(data))
    out = _build(tmp_path, mine, flows=flows)  # the same output and cache: an incremental build
    cc = _html(out, "client-credentials")
    assert f"Changed since last verified against staging on {TODAY}" in cc and "flowdoc-proof-changed" in cc
    old = _html(out, "gateway-login")
    assert "Last verified against staging on 2020-01-02, more than 30 days ago" in old
    assert "changed since verified: staging" in (out / "index.html").read_text()
    assert "flowdoc-proof-verified" in _html(out, "mfa-step-up")
    out = _build(tmp_path, mine, flows=flows, proof_max_age=100_000)
    assert "Verified against staging on 2020-01-02" in _html(out, "gateway-login")


def test_an_incremental_build_shows_the_proofs_of_the_flows_it_did_not_read(proved, tmp_path):
    """One flow edited: the index's proof column of the others comes from the build cache's records
    (their flows are not read again), and is what a clean build shows."""
    _srv, proofs, _verifier, _flows = proved
    flows = copy_flows(tmp_path / "flows")
    _build(tmp_path, proofs, flows=flows)
    path = flows / "device-authorization.yaml"
    path.write_text(path.read_text().replace("title: Sign in on a TV", "title: Sign in on a smart TV", 1))
    _build(tmp_path, proofs, flows=flows)
    _build(tmp_path, proofs, flows=flows, name="clean")
    index = (tmp_path / "site" / "cache" / "docs" / "index.md").read_text(encoding="utf-8")
    assert index == (tmp_path / "clean" / "cache" / "docs" / "index.md").read_text(encoding="utf-8")
    assert index.count("flowdoc-proof-verified") >= len(EXAMPLES) - 1 and "flowdoc-proof-changed" in index


def test_hostile_proof_text_is_escaped(proved, tmp_path):
    _srv, proofs, _verifier, flows = proved
    mine = tmp_path / "proofs"
    mine.mkdir()
    src = proofs / f"client-credentials@{_latest(flows, 'client-credentials').version}.proof.json"
    data = json.loads(src.read_text())
    evil = "<img src=x onerror=alert(1)>](javascript:alert(1)) | x\n\n<script>alert(2)</script>"
    data["environment"] = evil
    ex = data["scenarios"][0]["exchanges"][0]
    ex["response"]["headers"].append(["X-Evil", "\"><script>alert(3)</script>"])
    ex["response"]["body"] = {"kind": "text", "text": "</code></pre><script>alert(4)</script>\n\n[a](javascript:x)"}
    pwned = tmp_path / "pwned"
    ex["request"]["body"]["form"].append(["x'; touch pwned; '", f"\"$(touch {pwned})\"`touch {pwned}`"])
    (mine / src.name).write_text(json.dumps(data))
    out = _build(tmp_path, mine)
    for page in (_html(out, "client-credentials"), (out / "index.html").read_text()):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert 'href="javascript:' not in page and "href='javascript:" not in page
    curl = next(code for label, _lang, code in _samples(load_proof(mine / src.name), _latest(flows, "client-credentials"))
                if label == "curl")
    # quoted: the shell runs none of it, and curl gets the text as it was
    shown = subprocess.run(["bash", "-c", 'curl() { printf "%s\\n" "$@"; }\n' + curl], cwd=tmp_path,
                           capture_output=True, text=True, timeout=30)
    assert f"x'; touch pwned; '=\"$(touch {pwned})\"`touch {pwned}`" in shown.stdout.splitlines()
    assert not pwned.exists() and not (tmp_path / "pwned").exists()


def test_a_broken_proof_file_stops_the_build_with_exit_2(tmp_path):
    proofs = tmp_path / "proofs"
    proofs.mkdir()
    (proofs / "client-credentials@1.1.0.proof.json").write_text('{"format": 1, "flow": "x"}')
    proc = run_flowdoc("build", "--flows", str(FLOWS), "--out", str(tmp_path / "o"), "--proofs", str(proofs),
                       cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "client-credentials@1.1.0.proof.json: not a valid proof file" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "o").exists()


# ------------------------------------------------------------------ the code runs


def _samples(proof, flow, transition: str | None = None):
    ex = next(ex for s in proof.scenarios if s.name == "happy-path" for ex in s.exchanges
              if ex.role == "step" and (transition is None or ex.transition == transition))
    var = env_names(proof.placeholders, flow.inputs)
    return request_samples(ex.request, lambda ph: var.get(ph, "FLOWDOC_VALUE"))


def _runnable(proved):
    """(flow, exchange, environment) of each happy-path step whose placeholders are all inputs or
    values a client makes fresh (state, nonce, PKCE challenge): what a developer can run alone."""
    _srv, proofs, verifier, flows = proved
    out = []
    for fid in EXAMPLES:
        flow = _latest(flows, fid)
        proof = load_proof(proofs / f"{fid}@{flow.version}.proof.json")
        names = env_names(proof.placeholders, flow.inputs)
        happy = next(s for s in proof.scenarios if s.name == "happy-path")
        for ex in happy.exchanges:
            if ex.role != "step":
                continue
            sent = ex.request.model_dump(mode="json", by_alias=True)
            if sent.get("auth"):  # the samples authenticate with the tool's own option, not this header
                sent["headers"] = [h for h in sent["headers"] if h[0].lower() != "authorization"]
            used = set(re.findall(r"«[^«»]+»", json.dumps(sent, ensure_ascii=False)))
            info = [proof.placeholders[p] for p in used]
            if any(i.kind not in ("input", "generated") for i in info):
                continue
            env = {"PATH": os.environ.get("PATH", "")}
            for ph in used:
                i = proof.placeholders[ph]
                found = verifier.inputs.lookup(flow, i.name) if i.kind == "input" else None
                env[names[ph]] = str(found[0]) if found else secrets.token_urlsafe(32)
            out.append((flow, proof, ex, env))
    return out


def _documented(flow, transition: str):
    t = next(t for t in flow.transitions if t.id == transition)
    return t.response.statuses, list(t.response.fields or [])


def test_generated_samples_get_the_documented_answer(proved, tmp_path):
    runnable = _runnable(proved)
    steps = {(flow.id, ex.transition) for flow, _p, ex, _e in runnable}
    assert {("client-credentials", "request_token"), ("authorization-code-pkce", "start"),
            ("mfa-step-up", "start")} <= steps, steps
    node = node_executable()
    for flow, proof, ex, env in runnable:
        statuses, fields = _documented(flow, ex.transition)
        var = env_names(proof.placeholders, flow.inputs)
        codes = {label: code for label, _lang, code in request_samples(ex.request, lambda ph, v=var: v.get(ph, "X"))}
        assert all(f"«{n}»" not in codes["curl"] for n in flow.inputs)  # placeholders became variables
        curl = subprocess.run(["bash", "-c", codes["curl"]], env=env, capture_output=True, text=True, timeout=30)
        assert curl.returncode == 0, (flow.id, ex.transition, curl.stderr)
        # with -i each response's status line shows (redirects followed too): the last is the answer
        status = int(re.findall(r"^HTTP/[0-9.]+ (\d{3})", curl.stdout, re.MULTILINE)[-1])
        assert status in statuses, (flow.id, ex.transition, status, statuses)
        py = subprocess.run([sys.executable, "-c", codes["Python"]], env=env, capture_output=True, text=True,
                            timeout=30)
        assert py.returncode == 0, (flow.id, ex.transition, py.stderr)
        assert int(py.stdout.split("\n", 1)[0]) in statuses, (flow.id, ex.transition, py.stdout[:200])
        if fields and status == 200:
            assert set(fields) <= set(json.loads(py.stdout.split("\n", 1)[1])), (flow.id, ex.transition, fields)
        if ex.request.follow_redirects:  # Node's fetch sends no cookie a redirect set (a browser does)
            continue
        js = subprocess.run([node, "--input-type=module", "-e", codes["JavaScript"]], env=env, capture_output=True,
                            text=True, timeout=30)
        assert js.returncode == 0, (flow.id, ex.transition, js.stderr)
        assert int(js.stdout.split(" ", 1)[0]) in statuses, (flow.id, ex.transition, js.stdout[:200])
        if fields and status == 200:
            assert set(fields) <= set(json.loads(js.stdout.split(" ", 1)[1])), (flow.id, ex.transition)


# ------------------------------------------------------------------ in a browser


@pytest.mark.slow
def test_code_tabs_switch_and_the_badge_links_to_the_proof(chromium, proved, tmp_path):
    _srv, proofs, _verifier, _flows = proved
    out = _build(tmp_path, proofs)
    with serve(out) as base:
        visit = Visit(chromium, base, width=1280)
        try:
            page = visit.open("client-credentials/latest/")
            visible = """() => [...document.querySelectorAll('.flowdoc-tabs')].map(box =>
                [...box.querySelectorAll('[role=tabpanel]')].filter(p => p.offsetParent !== null)
                  .map(p => p.getAttribute('data-flowdoc-label')))"""
            assert page.evaluate(visible) == [["HTTP"], ["HTTP"]]
            first = page.locator(".flowdoc-tabs").first
            first.get_by_role("tab", name="Python").click()
            assert page.evaluate(visible) == [["Python"], ["Python"]]  # the language chosen, on every step
            assert first.get_by_role("tab", name="Python").get_attribute("aria-selected") == "true"
            first.get_by_role("tab", name="Python").press("ArrowRight")
            assert page.evaluate(visible)[0] == ["JavaScript"]
            assert page.evaluate("() => document.activeElement.textContent") == "JavaScript"
            code = first.locator("[role=tabpanel]:visible code").inner_text()
            assert "await fetch(" in code and "process.env.FLOWDOC_CLIENT_SECRET" in code
            page.locator(".flowdoc-proof-badge a").click()
            page.wait_for_function("() => location.hash === '#proof'")
            # the theme scrolls smoothly: the proof's heading comes to the top of the window
            page.wait_for_function("() => Math.abs(document.getElementById('proof').getBoundingClientRect().top) < 200",
                                   timeout=10_000)
            problems = visit.problems
        finally:
            visit.close()
    assert problems == [] and visit.outside == []


def test_proofs_folder_and_max_age_from_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.flowdoc.site]\nproofs = "proofs"\nproof_max_age = 7\n')
    settings = BuildSettings.from_config(load_config(tmp_path))
    assert settings.proofs_dir == tmp_path / "proofs" and settings.proof_max_age == 7
    (tmp_path / "pyproject.toml").write_text('[tool.flowdoc.site]\nproof_max_age = -1\n')
    with pytest.raises(ConfigError, match="proof_max_age"):
        load_config(tmp_path)


def test_plugin_option_proofs_dir(proved, tmp_path):
    _srv, proofs, _verifier, _flows = proved
    project = tmp_path / "project"
    (project / "docs").mkdir(parents=True)
    (project / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
    copy_flows(project / "flows")
    shutil.copytree(proofs, project / "proofs")
    (project / "mkdocs.yml").write_text(
        "site_name: t\nplugins:\n  - flowdoc:\n      flows_dir: flows\n      proofs_dir: proofs\n      proof_max_age: 7\n",
        encoding="utf-8")
    mkdocs_build(load_mkdocs_config(str(project / "mkdocs.yml"), site_dir=str(project / "site"), strict=True))
    html = (project / "site" / "flows" / "client-credentials" / "latest" / "index.html").read_text()
    assert "Verified against staging on" in html and 'id="proof"' in html and 'class="flowdoc-tabs"' in html
    assert "verified: staging" in (project / "site" / "flows" / "index.html").read_text()


def test_a_failing_proof_says_which_scenarios_did_not_pass(proved, tmp_path):
    _srv, proofs, _verifier, flows = proved
    mine = tmp_path / "proofs"
    mine.mkdir()
    src = proofs / f"client-credentials@{_latest(flows, 'client-credentials').version}.proof.json"
    data = json.loads(src.read_text())
    bad = next(s for s in data["scenarios"] if s["name"] == "bad_scope")
    bad["status"], bad["message"] = "failed", "step 'request_token' (provoke): status: expected 400, got 200"
    data["summary"]["passed"] -= 1
    data["summary"]["failed"] = 1
    (mine / src.name).write_text(json.dumps(data))
    html = _html(_build(tmp_path, mine), "client-credentials")
    n = data["summary"]["scenarios"]
    assert f"Verification failed against staging on {TODAY} — {n - 1}/{n} scenarios" in html
    assert "flowdoc-proof-failing" in html and "<code>bad_scope</code> (failed)" in html


HOSTILE = ["it's", 'say "hi"', "back\\slash", "new\nline", "${HOME}", "`id`", "$(id)", "\u2028\u2029", "</script>",
           "«not a placeholder", "tab\there", "%41%", "& = ?"]


def test_samples_quote_hostile_text_in_every_language(tmp_path):
    """Every literal of a proof reaches the code as the same text: Python and JavaScript parse,
    the shell passes each word as it is (curl itself is not run: a stand-in prints its arguments)."""
    req = ProofRequest.model_validate({
        "method": "POST", "url": "http://127.0.0.1:9/x", "base": "http://127.0.0.1:9/x",
        "query": [[f"q{i}", v] for i, v in enumerate(HOSTILE)],
        "headers": [["X-Evil", v.replace("\n", " ")] for v in HOSTILE],
        "body": {"kind": "form", "form": [[v, v] for v in HOSTILE] + [["secret", "«client_secret»"], ["d", "1"],
                                                                       ["d", "2"]]},
    })
    codes = {label: code for label, _lang, code in request_samples(req, lambda ph: "FLOWDOC_CLIENT_SECRET")}
    tree = ast.parse(codes["Python"])
    constants = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert set(HOSTILE) <= constants
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "request")
    sent = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg in ("headers", "params")}
    data = next(kw.value for kw in call.keywords if kw.arg == "data")
    assert ast.literal_eval(data.values[-1]) == ["1", "2"]  # a name sent twice keeps both values
    assert sent["headers"] == [("X-Evil", v.replace("\n", " ")) for v in HOSTILE]
    assert sent["params"] == [(f"q{i}", v) for i, v in enumerate(HOSTILE)]
    shown = subprocess.run(["bash", "-c", 'curl() { printf "%s\\0" "$@"; }\n' + codes["curl"]], cwd=tmp_path,
                           env={"PATH": os.environ["PATH"], "FLOWDOC_CLIENT_SECRET": "s3cr3t"},
                           capture_output=True, text=True, timeout=30)
    args = shown.stdout.split("\0")
    for v in HOSTILE:
        assert f"{v}={v}" in args
    assert "secret=s3cr3t" in args and args.index("d=1") < args.index("d=2")
    stand_in = "await ((url, o) => ({status: 0, text: async () => JSON.stringify([url, o.headers, [...o.body]])}))("
    js = tmp_path / "sample.mjs"
    js.write_text(codes["JavaScript"].replace("await fetch(", stand_in))
    node = subprocess.run([node_executable(), str(js)], env={"FLOWDOC_CLIENT_SECRET": "s3cr3t"}, capture_output=True,
                          text=True, timeout=30)
    assert node.returncode == 0, node.stderr
    url, headers, body = json.loads(node.stdout.split(" ", 1)[1])
    assert [[v, v] for v in HOSTILE] + [["secret", "s3cr3t"], ["d", "1"], ["d", "2"]] == body
    assert headers == [["X-Evil", v.replace("\n", " ")] for v in HOSTILE]  # every one, in order
    assert url.startswith("http://127.0.0.1:9/x?q0=it%27s")
