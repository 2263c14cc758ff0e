"""Proof files (flowdoc verify --proof DIR): a full run against the real test server writes one
file per flow and version, valid against the schema, stable, and free of every secret, token,
code and cookie value of the run, in every shape."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import jsonschema
import pytest

from flowdoc import load_flow
from flowdoc.proofs import (
    Proof,
    ProofError,
    load_proof,
    merge_proofs,
    proof_json_schema_text,
    proof_text,
    write_proofs,
)
from flowdoc.verify import Verifier, VerifyOptions, load_flows
from tests.helpers import FLOWS, ROOT, example_ids, run_module, run_verify
from tests.support.verify_inputs import secrets_of, verify_inputs, verify_values

SCHEMA = ROOT / "flowdoc" / "data" / "proof.schema.json"
EXAMPLES = example_ids()
SECRET_NAMES = {"access_token", "refresh_token", "id_token", "code", "client_secret", "password", "code_verifier",
                "otp", "totp", "session", "csrf", "csrf_token", "assertion"}
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}")


def test_the_committed_schema_is_the_models_schema():
    assert SCHEMA.read_text() == proof_json_schema_text(), "run: python -c 'from flowdoc.proofs import *; ...'"


# ------------------------------------------------------------------ a full run


@pytest.fixture(scope="module")
def proof_run(oidc_server_verify, tmp_path_factory):
    """Every example flow against the test server, recorded, with its proof files written."""
    srv = oidc_server_verify
    out = tmp_path_factory.mktemp("proofs")
    inputs, env = verify_values(srv)
    flows = load_flows([FLOWS])
    with Verifier(VerifyOptions(inputs=inputs, env=env, jobs=6, record=True)) as verifier:
        result = verifier.run(flows)
        written = write_proofs(out, verifier.proofs(verifier.env_name(flows)))
        raw = verifier.recorder.raw_exchanges()
    return srv, result, written, raw, env


def _json_secrets(data, out: set[str]) -> None:
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for k, v in value.items():
                if k in SECRET_NAMES and isinstance(v, (str, int)) and str(v):
                    out.add(str(v))
                stack.append(v)
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            out.update(m.group(0) for m in re.finditer(r"eyJ[A-Za-z0-9_.-]{20,}", value))


def _pairs_secrets(text: str, out: set[str]) -> None:
    out.update(v for k, v in parse_qsl(text, keep_blank_values=True) if k in SECRET_NAMES and v)


def _request_secrets(req, out: set[str]) -> None:
    """Credentials as sent: Authorization (and Basic's parts), cookies, secret form and query values."""
    for k, v in req.headers.multi_items():
        if k.lower() == "authorization":
            scheme, _, cred = v.partition(" ")
            out.add(cred)
            if scheme.lower() == "basic":
                user_pass = base64.b64decode(cred).decode()
                out.add(user_pass.partition(":")[2])
        elif k.lower() == "cookie":
            out.update(p.split("=", 1)[1] for p in v.split("; ") if "=" in p and p.split("=", 1)[1])
    _pairs_secrets(urlsplit(str(req.url)).query, out)
    content = req.content.decode("utf-8", "replace")
    if "x-www-form-urlencoded" in req.headers.get("content-type", ""):
        _pairs_secrets(content, out)


def _response_secrets(got, out: set[str]) -> None:
    """Tokens, codes and cookies as received: JSON fields, Set-Cookie, the Location's parameters."""
    if got.json is not None:
        _json_secrets(got.json, out)
    for line in got.headers.get_list("set-cookie"):
        value = line.split(";", 1)[0].partition("=")[2]
        if value:
            out.add(value)
    location = got.headers.get("location") or ""
    parts = urlsplit(location)
    _pairs_secrets(parts.query, out)
    _pairs_secrets(parts.fragment, out)


def _run_values(raw, srv, env: dict) -> set[str]:
    """Every secret, token, code and cookie value of the run, as the test sees them on the wire."""
    values = set(secrets_of(srv).values()) | set(env.values())
    for ex in raw:
        if ex.request is not None:
            _request_secrets(ex.request, values)
        if ex.got is not None:
            _response_secrets(ex.got, values)
    return {v for v in values if len(v) >= 6}


def _shapes(value: str) -> set[str]:
    raw = value.encode()
    b64 = base64.b64encode(raw).decode()
    return {value, quote(value, safe=""), quote_plus(value), b64, b64.rstrip("="),
            base64.urlsafe_b64encode(raw).decode().rstrip("=")}


def test_a_full_run_writes_one_proof_per_flow_free_of_every_secret(proof_run):
    srv, result, written, raw, env = proof_run
    assert result.exit_code == 0
    assert sorted(p.name for p in written) == sorted(
        f"{f.id}@{f.version}.proof.json" for f in result.flows)
    assert len(written) == len(EXAMPLES)
    values = _run_values(raw, srv, env)
    # the scan has material: client secrets, passwords, the TOTP seed, tokens, codes, cookies
    assert len(values) > 40, len(values)
    assert any(JWT.match(v) for v in values) and any(v.startswith("fd-") for v in values)
    basic = [f"{cid}:{secret}" for cid, secret in srv.secrets.items()]
    texts = {p.name: p.read_text() for p in written}
    for name, text in texts.items():
        for value in values | set(basic):
            for shape in _shapes(value):
                assert shape not in text, f"a secret ({len(value)} chars) leaked into {name}"
        assert not JWT.search(text), name


def test_proof_files_are_valid_stable_and_say_what_ran(proof_run):
    _srv, result, written, _raw, _env = proof_run
    schema = json.loads(SCHEMA.read_text())
    by_id = {f.id: f for f in result.flows}
    for path in written:
        text = path.read_text()
        data = json.loads(text)
        jsonschema.validate(data, schema)
        proof = load_proof(path)
        assert proof_text(proof) == text  # sorted keys, one layout: what is read is what was written
        assert list(data) == sorted(data)
        fr = by_id[proof.flow.id]
        assert proof.summary.scenarios == proof.summary.passed == len(fr.scenarios)
        assert proof.environment == "127.0.0.1"
        assert [s.name for s in proof.scenarios] == [s.name for s in fr.scenarios]
        assert "duration" not in text and "elapsed" not in text and '"Date"' not in text
    cc = load_proof(next(p for p in written if p.name.startswith("client-credentials@")))
    happy = next(s for s in cc.scenarios if s.name == "happy-path")
    token = happy.exchanges[0]
    assert token.transition == "request_token" and token.request.method == "POST"
    assert token.request.auth is not None and token.request.auth.username == "flowdoc-service"
    assert token.request.auth.password == "«client-credentials.client_secret»"
    assert token.request.body.form == [["grant_type", "client_credentials"], ["scope", "api:read"]]
    assert token.response.status == 200 and token.response.body.json_["access_token"] == "«access_token#1»"
    assert token.response.body.json_["token_type"] == "Bearer"
    assert cc.placeholders["«client-credentials.client_secret»"].kind == "input"
    bad = next(s for s in cc.scenarios if s.name == "bad_secret")
    assert bad.branch == "request_token/bad_secret"
    assert bad.exchanges[0].response.body.json_["error"] == "invalid_client"
    # placeholders are numbered per file, in order of appearance
    pkce = load_proof(next(p for p in written if p.name.startswith("authorization-code-pkce@")))
    text = json.dumps([s.model_dump(mode="json", by_alias=True) for s in pkce.scenarios], ensure_ascii=False)
    numbers = [int(n) for n in re.findall(r"«code#(\d+)»", text)]
    assert numbers and numbers[0] == 1 and max(numbers) <= len(set(numbers))


# ------------------------------------------------------------------ the CLI and the plugin


def _cc_file() -> str:
    flow = load_flow(FLOWS / "client-credentials.yaml")
    return f"client-credentials@{flow.version}.proof.json"


def test_verify_proof_option_names_the_environment(oidc_server_verify, tmp_path):
    srv = oidc_server_verify
    cli, env_text = verify_inputs(srv)
    (tmp_path / "s.env").write_text(env_text)
    base = [str(FLOWS / "client-credentials.yaml"), *cli, "--env-file", str(tmp_path / "s.env"), "-q"]
    proc = run_verify([*base, "--proof", str(tmp_path / "p"), "--env-name", "staging"], tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 proof file written to" in proc.stderr
    proof = load_proof(tmp_path / "p" / _cc_file())
    assert proof.environment == "staging" and proof.summary.passed == proof.summary.scenarios >= 5
    assert (tmp_path / "p" / _cc_file()).stat().st_mode & 0o044  # readable as any new file: not 0600
    bad = run_verify([*base, "--proof", str(tmp_path / "q"), "--env-name", ""], tmp_path, timeout=120)
    assert bad.returncode == 2 and "--env-name" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "q").exists()


def test_pytest_plugin_writes_proofs(oidc_server_verify, tmp_path):
    srv = oidc_server_verify
    cli, env_text = verify_inputs(srv)
    (tmp_path / "s.env").write_text(env_text)
    inputs = [a.replace("--input", "--flowdoc-input") for a in cli]
    proc = run_module("pytest", "-p", "no:cacheprovider", "-p", "no:flowdoc", "-p", "flowdoc.verify.pytest_plugin",
                      "--flowdoc-base-url", srv.issuer, "--flowdoc-flows", str(FLOWS / "client-credentials.yaml"),
                      "--flowdoc-env-file", str(tmp_path / "s.env"), *inputs, "-q", "--rootdir", str(tmp_path),
                      "--flowdoc-proof", str(tmp_path / "proofs"), cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proof = load_proof(tmp_path / "proofs" / _cc_file())
    assert proof.environment == "127.0.0.1" and proof.summary.passed == proof.summary.scenarios >= 5
    assert srv.secrets["flowdoc-service"] not in (tmp_path / "proofs" / _cc_file()).read_text()


# ------------------------------------------------------------------ hostile proof files


@pytest.mark.parametrize("content,message", [
    (b"{", "not JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[1]", "not an object"),
    (b"[" * 100_000 + b"]" * 100_000, "nested more than 64"),
    (json.dumps({"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}).encode(),
     "nested more than 64"),
    (b'{"format": 1}', "not a valid proof file"),
    (b'{"format": 1, "flowdoc": "x", "environment": "e", "date": "2026-01-01", "summary": {"scenarios": 1, '
     b'"passed": 1}, "flow": {"id": "f", "hash": "md5:x"}}', "flow.hash"),
])
def test_a_broken_proof_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "f@1.0.0.proof.json"
    path.write_bytes(content)
    with pytest.raises(ProofError) as info:
        load_proof(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_two_runs_give_the_same_proof(oidc_server_verify, tmp_path):
    """Codes, tokens, cookies, state, nonce and PKCE values change on every run; the file does not."""
    srv = oidc_server_verify
    inputs, env = verify_values(srv)
    flows = load_flows([FLOWS / "authorization-code-pkce.yaml"])
    texts = []
    for n in range(2):
        with Verifier(VerifyOptions(inputs=inputs, env=env, jobs=3, record=True)) as verifier:
            assert verifier.run(flows).exit_code == 0
            (path,) = write_proofs(tmp_path / str(n), verifier.proofs("staging"))
            texts.append(path.read_text())
    assert texts[0] == texts[1]
    assert "«state#1»" in texts[0] and "«code_challenge#1»" in texts[0] and "expires=…" in texts[0]


# ------------------------------------------------------------------ merging the proofs of pytest-xdist workers


def _part(scenarios: list[tuple[str, str, list[str]]], *, hash_: str = "0" * 64) -> Proof:
    """A proof of flow f with scenarios (name, status, texts its exchange's note holds)."""
    found = sorted({ph for _n, _s, texts in scenarios for t in texts for ph in re.findall(r"«[^«»]+»", t)})
    return Proof.model_validate({
        "format": 1, "flowdoc": "0", "flow": {"id": "f", "version": "1.0.0", "hash": f"sha256:{hash_}"},
        "environment": "staging", "date": "2026-01-02",
        "summary": {"scenarios": len(scenarios), "passed": len(scenarios)},
        "scenarios": [{"id": f"f/{name}", "name": name, "kind": "path", "status": status, "exchanges": [
            {"transition": "t", "role": "client", "note": text,
             "request": {"method": "GET", "url": "https://as.invalid/", "base": "https://as.invalid/"}}
            for text in texts]} for name, status, texts in scenarios],
        "placeholders": {ph: {"kind": "value", "name": ph.strip("«»").split("#")[0]} for ph in found},
    })


def _notes(proof: Proof) -> dict[str, list[str]]:
    return {s.name: [e.note for e in s.exchanges] for s in proof.scenarios}


def test_merged_proofs_number_one_value_once_and_follow_the_plan():
    # worker 1 ran a and c, worker 2 ran b; «sig#…» is one constant value the server gave both
    one = _part([("a", "passed", ["«code#1» «sig#1»"]), ("c", "failed", ["«code#2» «code#1»"])])
    two = _part([("b", "passed", ["«sig#1» «code#1» «client_secret»"])])
    keys = [{"«code#1»": "k-a", "«code#2»": "k-c", "«sig#1»": "k-sig"}, {"«code#1»": "k-b", "«sig#1»": "k-sig"}]
    merged = merge_proofs([one, two], ["f/a", "f/b", "f/c"], keys)
    assert _notes(merged) == {"a": ["«code#1» «sig#1»"], "b": ["«sig#1» «code#2» «client_secret»"],
                              "c": ["«code#3» «code#1»"]}
    assert [s.name for s in merged.scenarios] == ["a", "b", "c"]
    assert (merged.summary.scenarios, merged.summary.passed, merged.summary.failed) == (3, 2, 1)
    assert set(merged.placeholders) == {"«code#1»", "«code#2»", "«code#3»", "«sig#1»", "«client_secret»"}
    # without fingerprints each part's values are its own: the constant gets a number per part
    unkeyed = merge_proofs([one, two], ["f/a", "f/b", "f/c"])
    assert _notes(unkeyed)["b"] == ["«sig#2» «code#2» «client_secret»"]


def test_proofs_of_another_flow_content_are_not_merged():
    with pytest.raises(ValueError, match="not of one flow content"):
        merge_proofs([_part([("a", "passed", [])]), _part([("b", "passed", [])], hash_="1" * 64)])
