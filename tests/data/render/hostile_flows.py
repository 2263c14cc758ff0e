"""Flows built from the hostile label corpus (hostile_labels.json), for the render tests.

Each label goes into every place a flow holds author text that reaches a diagram or a page:
flow title and summary, actor names, state titles, transition titles, guards, triggers,
descriptions, actions, failure titles, conditions and error codes, parameter and header
values, response fields, body values that tell answers apart and page texts, the handoff, lifecycle, troubleshooting and changelog texts. Ids
are valid flow ids that are Mermaid keywords or look like generated ids (end, alt, state,
mfa-pending, s_end, root_start ...).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from flowdoc.check import check_graph
from flowdoc.load import read_flow_text

HERE = Path(__file__).resolve().parent
LABELS: list[str] = json.loads((HERE / "hostile_labels.json").read_text("utf-8"))["labels"]

IDS = [
    "end", "alt", "else", "note", "par", "loop", "opt", "state", "class", "classDef", "graph",
    "subgraph", "style", "default", "click", "mfa-pending", "_x", "o", "x", "A-B", "end-1",
    "participant", "actor", "Note", "direction", "TD", "choice", "fork", "root_start", "root_end",
    "s_end", "p_end", "n_state_x", "end_note",
]

SECRET_DEFAULT = "s3cr3t-value-{n}"


def _ids(n: int, k: int) -> list[str]:
    return [IDS[(n + j) % len(IDS)] for j in range(k)]


def hostile_data(n: int, label: str) -> dict:
    L = label
    A, S, T, F = _ids(n, 3), _ids(n + 3, 5), _ids(n + 8, 5), _ids(n + 13, 3)
    return {
        "id": f"hostile-{n}",
        "title": L,
        "summary": L,
        "version": "1.0.0",
        "updated": "2026-11-20",
        "actors": {
            A[0]: {"name": L, "kind": "person"},
            A[1]: {"name": L + " 2", "kind": "client"},
            A[2]: {"name": "Z " + L, "kind": "authorization-server"},
        },
        "inputs": {
            "secret_in": {"secret": True, "default": SECRET_DEFAULT.format(n=n), "description": L},
            "plain": {"example": L, "description": L},
        },
        "states": [
            {"id": S[0], "title": L, "initial": True},
            {"id": S[1], "title": L},
            {"id": S[2], "title": L},
            {"id": S[3], "title": L, "terminal": True, "handoff": L},
            {"id": S[4], "title": L, "failure": True, "terminal": True},
        ],
        "transitions": [
            {
                "id": T[0], "from": S[0], "to": S[1], "by": f"{A[0]} -> {A[1]}",
                "title": L, "guard": L, "trigger": L, "description": L,
                "request": {
                    "method": "POST", "path": "/token", "query": {"q": L},
                    "form": {"f": L, "n": 5, "b": True, "s": "${inputs.secret_in}"},
                },
                "response": {"status": 200, "fields": [L], "body": {"v": L}, "text": [L]},
                "failures": [
                    {"id": F[0], "title": L, "when": L, "to": S[4], "remedy": L,
                     "response": {"status": 401, "error": L, "body": {"v": "not " + L}, "text": [L]}},
                    {"id": F[1], "when": L, "response": {"outcome": "timeout"}, "remedy": L},
                ],
            },
            {
                "id": T[1], "from": S[1], "to": S[2], "by": f"{A[1]} -> {A[2]}", "parallel": "grp", "title": L,
                "request": {"method": "GET", "path": "/" + L.replace("\n", " ")},
                "response": {"status": [200, 204], "error": L},
            },
            {
                "id": T[2], "from": S[1], "to": S[2], "by": f"{A[2]} -> {A[1]}", "parallel": "grp",
                "internal": True, "title": L + " (2)",
                "request": {"method": "PUT", "path": "/x", "json": {"j": L}},
                "response": {"status": 201, "headers": {"X-H": L}},
            },
            {"id": T[3], "from": S[2], "to": S[3], "by": f"{A[0]} -> {A[0]}", "title": L, "action": L,
             "guard": {"text": L}},
            {
                "id": T[4], "from": S[2], "to": S[3], "by": f"{A[1]} -> {A[0]}", "title": L, "action": L, "guard": L,
                "failures": [{"id": F[2], "when": L, "response": {"status": 403, "error": "e"}, "to": S[4],
                              "remedy": L}],
            },
        ],
        "lifecycle": {
            "tokens": {"tok": {"description": L, "ttl": 90, "rotation": L}},
            "storage": {"web": L},
            "reauthenticate": [L],
            "caching": [L],
            "notes": L,
        },
        "troubleshooting": [{"error": L, "cause": L, "remedy": L}],
        "changelog": [{"version": "1.0.0", "notes": [L]}],
    }


def hostile_flow(n: int, label: str):
    """The flow for one label, loaded like a file (YAML text → model → graph checks)."""
    text = yaml.safe_dump(hostile_data(n, label), allow_unicode=True, sort_keys=False)
    flow, diags = read_flow_text(text, f"hostile-{n}.yaml")
    assert flow is not None, [d.message for d in diags.items]
    check_graph(flow, diags)
    assert not diags.errors, [d.message for d in diags.errors]
    return flow


def hostile_flows() -> list:
    return [hostile_flow(n, label) for n, label in enumerate(LABELS)]
