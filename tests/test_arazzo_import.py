"""flowdoc import arazzo: round trips of the example flows' exports, a hand-written Arazzo file,
hostile values, and the bad-input table (clear FILE:LINE:COL errors, exit 2, no traceback)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

import flowdoc
from flowdoc.interop import ArazzoReadError, import_arazzo
from tests.helpers import FLOWS, ROOT, run_flowdoc
from tests.support.arazzo_examples import EXPORTABLE, WORKFLOWS


def export_to(tmp: Path, fid: str) -> Path:
    out = tmp / f"{fid}.arazzo.yaml"
    proc = run_flowdoc("export", "arazzo", str(FLOWS / f"{fid}.yaml"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


# ------------------------------------------------------------------ round trips

@pytest.mark.parametrize("fid", EXPORTABLE)
def test_round_trip_export_import_validate(fid, tmp_path):
    arazzo = export_to(tmp_path, fid)
    flow_file = tmp_path / "imported" / f"{fid}.yaml"
    proc = run_flowdoc("import", "arazzo", str(arazzo), "-o", str(flow_file))
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"TODO\(arazzo\) placeholders to resolve", proc.stderr)
    check = run_flowdoc("validate", str(flow_file))
    assert check.returncode == 0, check.stdout + check.stderr
    lint = run_flowdoc("lint", str(flow_file))  # a skeleton: lint findings expected, never invalid
    assert lint.returncode in (0, 1), lint.stdout + lint.stderr
    back = flowdoc.load_flow(flow_file)
    original = flowdoc.load_flow(FLOWS / f"{fid}.yaml")
    text = flow_file.read_text()
    # what Arazzo does not say is marked, as comments and placeholders
    for what in ("Arazzo has no states", "lifecycle", "Arazzo names the APIs"):
        assert what in text
    assert back.lifecycle is None and back.status.value == "draft"
    # the exported workflows come back: the happy path as transitions, the others as failure branches
    wfs = WORKFLOWS[fid]
    failures = {f.id: (t.id, f) for t in back.transitions for f in t.failures}
    if wfs[0] == "happy-path":
        assert sorted(failures) == sorted(wfs[1:])
        for fid2, (tid, f) in failures.items():
            orig_t = next(t for t in original.transitions if any(x.id == fid2 for x in t.failures))
            orig_f = next(x for x in orig_t.failures if x.id == fid2)
            assert tid == orig_t.id
            assert (f.response.status, f.response.error) == (orig_f.response.status, orig_f.response.error)
            assert "TODO(arazzo)" in f.remedy
    # inputs keep their secrecy, never a secret value
    for name, inp in back.inputs.items():
        if name in original.inputs:
            assert inp.secret == original.inputs[name].secret, name


def test_round_trip_keeps_requests_and_provocations(tmp_path):
    back = import_arazzo(export_to(tmp_path, "client-credentials"))
    flow = yaml.safe_load(back.text)
    t = {x["id"]: x for x in flow["transitions"]}
    tok = t["request_token"]
    assert tok["request"] == {"method": "POST", "path": "/token", "auth": "client_secret_basic",
                              "form": {"grant_type": "client_credentials", "scope": "${inputs.scope}"}}
    assert tok["response"]["capture"] == {"access_token": "body.access_token", "expires_in": "body.expires_in"}
    assert tok["response"]["body"] == {"token_type": "Bearer"}
    prov = {f["id"]: f.get("provoke") for f in tok["failures"]}
    assert prov == {"bad_secret": {"inputs": {"client_secret": "not-the-secret"}},
                    "unknown_client": {"inputs": {"client_id": "no-such-client"}},
                    "bad_scope": {"inputs": {"scope": "admin:everything"}}}
    call = t["call_api"]
    assert call["request"]["token"] == "${steps.request_token.access_token}"
    assert call["failures"][0]["provoke"] == {"request": {"omit": ["Authorization"]}}
    assert call["failures"][0]["when"] == "the Authorization header is missing, or the token has expired"
    refresh = yaml.safe_load(import_arazzo(export_to(tmp_path, "silent-refresh-rotation")).text)
    fr = {f["id"]: f for f in refresh["transitions"][0]["failures"]}
    assert fr["rotated_token_replayed"]["provoke"] == {"replay": True}


# ------------------------------------------------------------------ a hand-written Arazzo file

PETS_API = """\
openapi: 3.1.0
info: {title: Pets, version: "1"}
servers: [{url: "https://pets.example.com/v1"}]
paths:
  /oauth/token:
    post: {operationId: getToken, responses: {"200": {description: ok}}}
  /pets/{petId}:
    get: {operationId: getPet, responses: {"200": {description: ok}}}
"""

PETS_ARAZZO = """\
arazzo: 1.0.1
info: {title: "Adopt a pet", version: "2.1.0", summary: "Find a pet with a token"}
sourceDescriptions:
  - {name: petsApi, url: ./pets.openapi.yaml, type: openapi}
  - {name: remote, url: "https://example.invalid/other.yaml", type: openapi}
workflows:
  - workflowId: adopt
    inputs:
      type: object
      properties:
        user: {type: string, examples: [alice]}
        pass: {type: string, format: password}
        petId: {type: string, default: "7"}
    steps:
      - stepId: login
        description: Get a token with the password grant
        operationId: getToken
        requestBody:
          contentType: application/x-www-form-urlencoded
          payload: {grant_type: password, username: $inputs.user, password: $inputs.pass}
        successCriteria:
          - condition: $statusCode == 200
          - {context: $response.body, condition: "$[?@.access_token]", type: jsonpath}
          - {context: $response.body, condition: "$.items[?(@.n > 2)]", type: jsonpath}
        outputs: {token: $response.body#/access_token, whole: $response.body}
      - stepId: get-pet
        operationId: $sourceDescriptions.petsApi.getPet
        parameters:
          - {name: petId, in: path, value: $inputs.petId}
          - {name: Authorization, in: header, value: "Bearer {$steps.login.outputs.token}"}
        successCriteria: [{condition: $statusCode == 200}]
      - stepId: elsewhere
        operationId: $sourceDescriptions.remote.listThings
      - stepId: sub
        workflowId: other
"""


def test_a_generic_arazzo_file_imports_with_todos(tmp_path):
    (tmp_path / "pets.openapi.yaml").write_text(PETS_API)
    (tmp_path / "adopt.arazzo.yaml").write_text(PETS_ARAZZO)
    res = import_arazzo(tmp_path / "adopt.arazzo.yaml")
    flow = yaml.safe_load(res.text)
    assert flow["id"] == "adopt" and flow["version"] == "2.1.0"
    t = {x["id"]: x for x in flow["transitions"]}
    assert list(t) == ["login", "get-pet", "elsewhere"]
    assert t["login"]["request"]["form"] == {"grant_type": "password", "username": "${inputs.user}",
                                             "password": "${inputs.pass}"}
    assert t["login"]["response"] == {"status": 200, "fields": ["access_token"],
                                      "capture": {"token": "body.access_token"}}
    assert t["get-pet"]["request"] == {"method": "GET", "path": "/pets/{petId}", "auth": "bearer",
                                       "token": "${steps.login.token}", "params": {"petId": "${inputs.petId}"}}
    assert t["elsewhere"]["request"]["path"].startswith("/TODO(arazzo)")
    assert flow["inputs"]["pass"] == {"secret": True}
    assert flow["inputs"]["user"] == {"example": "alice"}
    assert flow["inputs"]["petsApi_url"]["example"] == "https://pets.example.com/v1"
    todos = "\n".join(res.todos)
    assert "$.items[?(@.n > 2)]" in todos  # a criterion with no flowdoc counterpart
    assert "output 'whole'" in todos
    assert "not a local file (flowdoc never fetches descriptions)" in todos
    assert "calls workflow 'other'" in todos
    out = tmp_path / "adopt.yaml"
    out.write_text(res.text)
    assert run_flowdoc("validate", str(out)).returncode == 0


def test_hostile_values_stay_data(tmp_path):
    hostile = "x ${inputs.nope} '\" #: &a *a !!python/object:os.system\n- y"
    doc = yaml.safe_load(PETS_ARAZZO)
    doc["info"]["title"] = hostile
    step = doc["workflows"][0]["steps"][0]
    step["description"] = hostile
    step["successCriteria"].append({"context": "$response.body#/error", "condition": "^bad\\$\\{inputs\\.x\\}$",
                                    "type": "regex"})
    step["requestBody"]["payload"]["scope"] = hostile
    (tmp_path / "pets.openapi.yaml").write_text(PETS_API)
    (tmp_path / "h.arazzo.yaml").write_text(yaml.safe_dump(doc))
    res = import_arazzo(tmp_path / "h.arazzo.yaml")
    (tmp_path / "h.yaml").write_text(res.text)
    flow = flowdoc.load_flow(tmp_path / "h.yaml")
    assert flow.title == hostile
    login = flow.transitions[0]
    assert login.response.error == "bad$${inputs.x}"
    assert login.request.form["scope"] == hostile.replace("${", "$${")


# ------------------------------------------------------------------ bad input

BAD = [
    ("list.yaml", "- arazzo: 1.0.1\n", r"list\.yaml:1:1: error\[not-arazzo\]: not an Arazzo description: the file "
                                       r"is not a mapping"),
    ("api.yaml", "openapi: 3.1.0\ninfo: {title: x, version: '1'}\n",
     r"api\.yaml:1:1: error\[not-arazzo\]: .*no 'arazzo' key \(this looks like an OpenAPI description\)"),
    ("flow.yaml", (FLOWS / "client-credentials.yaml").read_text(), r"no 'arazzo' key \(this looks like a flowdoc flow\)"),
    ("v2.yaml", "arazzo: 2.0.0\ninfo: {title: x, version: '1'}\n", r"v2\.yaml:1:9: error\[arazzo-version\]: Arazzo "
                                                                  r"version '2\.0\.0' is not supported"),
    ("num.yaml", "arazzo: 1.0\n", r"num\.yaml:1:9: error\[arazzo-version\].*\n    help: write the version as a quoted"),
    ("syntax.yaml", "arazzo: 1.0.1\ninfo: {title: x\nworkflows: []\n", r"syntax\.yaml:\d+:\d+: error\[yaml-syntax\]"),
    ("dup.yaml", "arazzo: 1.0.1\narazzo: 1.0.0\n", r"dup\.yaml:2:1: error\[duplicate-key\]"),
    ("tag.yaml", "arazzo: !!python/object/apply:os.system [id]\n", r"tag\.yaml:1:9: error\[yaml-tag\]"),
    ("empty.yaml", "", r"empty\.yaml: error\[empty-file\]: the file is empty\n    help: an Arazzo description"),
    ("null.yaml", "~\n", r"null\.yaml:1:1: error\[not-arazzo\]: not an Arazzo description: the file is not a mapping"),
    ("noflows.yaml", "arazzo: 1.0.1\ninfo: {title: x, version: '1'}\nsourceDescriptions: []\n",
     r"noflows\.yaml:3:21: error\[arazzo-invalid\]: 'sourceDescriptions' must be a non-empty list"),
    ("nostep.yaml", "arazzo: 1.0.1\ninfo: {title: x, version: '1'}\nsourceDescriptions: [{name: a, url: ./a}]\n"
                    "workflows:\n  - workflowId: w\n    steps:\n      - stepId: s\n        description: no operation\n",
     r"nostep\.yaml:7:9: error\[arazzo-invalid\]: step 's' needs exactly one of operationId, operationPath"),
    ("bomb.yaml", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                  "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
     r"bomb\.yaml:\d+:\d+: error"),
]


@pytest.mark.parametrize("name, text, pattern", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_positioned_error_exit_2(name, text, pattern, tmp_path):
    src = tmp_path / name
    src.write_text(text)
    target = tmp_path / "out.yaml"
    target.write_text("kept\n")
    proc = run_flowdoc("import", "arazzo", name, "-o", str(target), cwd=tmp_path, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert re.search(pattern, proc.stderr), proc.stderr
    assert "nothing was written" in proc.stderr and "Traceback" not in proc.stderr
    assert target.read_text() == "kept\n"
    with pytest.raises(ArazzoReadError):
        import_arazzo(src)


@pytest.mark.parametrize("name, data", [
    ("binary.yaml", b"\x00\x01\x02arazzo\xff\xfe"),
    ("latin1.yaml", "arazzo: '1.0.1'\ninfo: {title: caf\xe9}\n".encode("latin-1")),
    ("big.yaml", b"arazzo: 1.0.1\n" + b"# padding\n" * (450 * 1024)),
], ids=["binary", "latin1", "big"])
def test_unreadable_bytes_are_refused(name, data, tmp_path):
    (tmp_path / name).write_bytes(data)
    proc = run_flowdoc("import", "arazzo", name, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"{name}") and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_missing_file_and_folder(tmp_path):
    for arg in ("nope.arazzo.yaml", "."):
        proc = run_flowdoc("import", "arazzo", arg, cwd=tmp_path)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr


def test_import_to_stdout(tmp_path):
    arazzo = export_to(tmp_path, "gateway-login")
    proc = run_flowdoc("import", "arazzo", str(arazzo))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# Imported from the Arazzo description gateway-login.arazzo.yaml")
    assert yaml.safe_load(proc.stdout)["id"] == "gateway-login"
    assert "(stdout)" in proc.stderr


def test_importer_never_reads_outside_local_files(tmp_path, monkeypatch):
    """A source description with a URL is never fetched: no socket is opened during an import."""
    import socket

    def refuse(*a, **k):
        raise AssertionError("the import opened a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    doc = yaml.safe_load(PETS_ARAZZO)
    doc["sourceDescriptions"][0]["url"] = "http://127.0.0.1:9/pets.openapi.yaml"
    (tmp_path / "r.arazzo.yaml").write_text(yaml.safe_dump(doc))
    res = import_arazzo(tmp_path / "r.arazzo.yaml")
    assert "not a local file" in "\n".join(res.todos)
    assert ROOT.exists() and os.path.isdir(tmp_path)
