"""Proves the Node Mermaid checker (tests/node/mermaid_check.mjs) via tests/support/mermaid.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # make `tests.support` importable

from tests.support.mermaid import parse_mermaid  # noqa: E402

pytestmark = pytest.mark.node

SEQUENCE = """sequenceDiagram
    participant A as Auth Server
    actor U as User
    U->>A: GET /authorize?scope=openid#59; offline
    alt code issued
        A-->>U: 303 redirect #35;2
    else denied#59; by policy
        A--xU: access_denied
    end
    par refresh
        U-)A: POST /token
    and revoke
        U-)A: POST /token/revocation
    end
    Note over A,U: done#59; bye
"""

INVALID = """sequenceDiagram
    A->>B: scope=openid; offline
"""

STATE = """stateDiagram-v2
    state "Primary auth passed" as s1
    state "MFA pending#58; TOTP" as s2
    state decide <<choice>>
    [*] --> s1
    s1 --> decide : has totp?
    decide --> s2 : yes
    decide --> [*] : no
    s2 --> [*]
    classDef failure fill:#fdd
    class s2 failure
"""

FLOWCHART = """flowchart TD
    start[Login form] --> check{Password ok#59; ?}
    check -->|yes| done([Signed in])
    check -->|no#35;1| fail[Error]
"""


@pytest.fixture(scope="module")
def results():
    return parse_mermaid([SEQUENCE, INVALID, STATE, FLOWCHART])


def test_sequence_labels_are_decoded(results):
    seq = results[0]
    assert seq["ok"], seq.get("error")
    assert seq["type"] == "sequence"
    labels = seq["labels"]
    parts = {p["id"]: p for p in labels["participants"]}
    assert parts["A"]["name"] == "Auth Server"
    assert parts["A"]["type"] == "participant"
    assert parts["U"]["type"] == "actor"

    msgs = labels["messages"]
    assert [(m["from"], m["to"]) for m in msgs] == [
        ("U", "A"), ("A", "U"), ("A", "U"), ("U", "A"), ("U", "A"),
    ]
    assert msgs[0]["text"] == "GET /authorize?scope=openid; offline"
    assert msgs[0]["raw"] == "GET /authorize?scope=openid#59; offline"
    assert msgs[1]["text"] == "303 redirect #2"
    assert msgs[1]["arrow"] == "-->>"
    assert msgs[2]["arrow"] == "--x"
    assert msgs[3]["arrow"] == "-)"

    body = labels["body"]
    assert [b["kind"] for b in body] == ["message", "block", "block", "note"]
    alt, par = body[1], body[2]
    assert alt["block"] == "alt"
    assert [s["text"] for s in alt["sections"]] == ["code issued", "denied; by policy"]
    assert [[i["text"] for i in s["items"]] for s in alt["sections"]] == [
        ["303 redirect #2"], ["access_denied"],
    ]
    assert par["block"] == "par"
    assert [s["text"] for s in par["sections"]] == ["refresh", "revoke"]
    assert [[i["text"] for i in s["items"]] for s in par["sections"]] == [
        ["POST /token"], ["POST /token/revocation"],
    ]
    assert labels["notes"] == [
        {"actors": ["A", "U"], "placement": "over", "text": "done; bye", "raw": "done#59; bye"}
    ]


def test_invalid_diagram_reports_parse_error(results):
    bad = results[1]
    assert bad["ok"] is False
    assert "Parse error" in bad["error"]
    assert bad["line"] == 2


def test_state_diagram_labels(results):
    st = results[2]
    assert st["ok"], st.get("error")
    assert st["type"] == "stateDiagram"
    labels = st["labels"]
    states = {s["id"]: s for s in labels["states"]}
    assert states["s1"]["text"] == "Primary auth passed"
    assert states["s2"]["text"] == "MFA pending: TOTP"
    assert states["decide"]["type"] == "choice"
    assert states["s2"]["classes"] == ["failure"]
    assert labels["classDefs"]["failure"]["styles"] == ["fill:#fdd"]
    edges = {(t["from"], t["to"]): t["text"] for t in labels["transitions"]}
    assert edges[("s1", "decide")] == "has totp?"
    assert edges[("decide", "s2")] == "yes"
    assert sum(1 for s in labels["states"] if s["type"] == "start") == 1
    assert sum(1 for s in labels["states"] if s["type"] == "end") >= 1


def test_flowchart_diamond(results):
    fc = results[3]
    assert fc["ok"], fc.get("error")
    assert fc["type"] == "flowchart-v2"
    verts = {v["id"]: v for v in fc["labels"]["vertices"]}
    assert verts["check"]["type"] == "diamond"
    assert verts["check"]["text"] == "Password ok; ?"
    assert verts["done"]["type"] == "stadium"
    edges = [(e["start"], e["end"], e["text"]) for e in fc["labels"]["edges"]]
    assert edges == [("start", "check", ""), ("check", "done", "yes"), ("check", "fail", "no#1")]


def test_many_diagrams_one_process_are_isolated():
    srcs = [f"sequenceDiagram\n    participant P{i} as Party {i}\n    P{i}->>P{i}: m{i}\n" for i in range(50)]
    out = parse_mermaid(srcs)
    for i, r in enumerate(out):
        assert r["ok"]
        assert [p["id"] for p in r["labels"]["participants"]] == [f"P{i}"]
        assert [m["text"] for m in r["labels"]["messages"]] == [f"m{i}"]
