"""Hypothesis: mutated example flows give clean diagnostics, never an exception."""

from __future__ import annotations

import copy
import datetime
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from flowdoc.check import check_graph, run_lint
from flowdoc.load import read_flow_text
from tests.helpers import commit_all, init_repo

TEXTS = [p.read_text() for p in sorted(Path("flows").glob("*.yaml"))]
NASTY = [":", "- ", "{", "}", "[", "]", "'", '"', "\t", "&a", "*a", "!!python/object:os.system", "---", "yes",
         "0755", "1.10", "${", "${inputs.x}", "\x00", "\ufeff", "é", "%", "#", "? ", "|", ">", "~", "null", "\n"]


def _check(text: str | bytes) -> None:
    flow, diags = read_flow_text(text, "fuzz.yaml")
    if flow is not None:
        check_graph(flow, diags)
        if not diags.errors:
            run_lint(flow, diags)
    for d in diags.items:
        assert d.file == "fuzz.yaml" and d.code and d.message
        assert d.line is None or (d.line >= 1 and d.col >= 1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(TEXTS), st.data())
def test_text_mutations(text, data):
    n = data.draw(st.integers(1, 4))
    for _ in range(n):
        pos = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = data.draw(st.sampled_from(NASTY) | st.text(max_size=3))
        if op == "insert":
            text = text[:pos] + piece + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + data.draw(st.integers(1, 40)):]
        else:
            text = text[:pos] + piece + text[pos + len(piece):]
    _check(text)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(TEXTS), st.data())
def test_line_mutations(text, data):
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["drop", "dup", "dedent", "indent", "swap"]))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "dedent":
            lines[i] = lines[i][2:]
        elif op == "indent":
            lines[i] = "  " + lines[i]
        else:
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        if not lines:
            break
    _check("\n".join(lines))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes(data):
    _check(data)


# ------------------------------------------------------------------ every command, on mutated flows
#
# Each example mutates one example flow (its text, or one value of its YAML tree) and runs the
# commands on it through one long-lived worker (tests/support/fuzz_worker.py) that forks a child
# per run, with RLIMIT_AS set: exit 0, 1 or 2, no traceback, under 5 s of CPU and 500 MB.
# FLOWDOC_FUZZ_EXAMPLES=N sets the number of examples (default: a few minutes on 2 CPUs).

FUZZ_EXAMPLES = int(os.environ.get("FLOWDOC_FUZZ_EXAMPLES", "500"))
CPU_LIMIT_S = 5.0
RSS_LIMIT_MB = 500.0
FLOW_FILES = sorted(Path("flows").glob("*.yaml"))

HOSTILE = ["9" * 5000, " " * 200 + "x", "${" * 3000, "(" * 400 + "x" + ")" * 400, "\r\x1b]0;pwned\x07",
           "$${inputs.client_id}", "${inputs.nope}", "${steps.x.y}", "<script>alert(1)</script>", "a|b`c#d;e%%f",
           "\u202eevil", "y", "N", "on", "1:30", "0755", "1.10", "", "~", "-1", 0, -5, 10**30, 3.5, True, None,
           "inputs.a == 1 and " * 200 + "true", "not " * 40 + "true", "x" * 20000, "é\u0000", "[", "{a: b}",
           float("nan"), float("inf"), -1e308, 2**63, datetime.date(1, 1, 1), [], {}, [None, {"a": [1]}],
           {"id": "x", "to": "y"}, "https://127.0.0.1:1/x?y=${inputs.issuer}#z", "/{uid}/{", "%00%0d%0a"]
VALUE_OPS = ["replace", "delete", "duplicate", "rename", "swap-ids"]


class _Worker:
    def __init__(self) -> None:
        root = str(Path.cwd())
        env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.support.fuzz_worker"], cwd=root, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        assert json.loads(self.proc.stdout.readline()) == {"ready": True}

    def run(self, args: list[str], cwd: Path) -> dict:
        return self._ask({"args": args, "cwd": str(cwd)})

    def _ask(self, req: dict) -> dict:
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the fuzz worker died"
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def worker():
    w = _Worker()
    yield w
    w.close()


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A git repository holding the example flows, committed: `check --against HEAD` compares with them."""
    root = tmp_path_factory.mktemp("fuzz-repo")
    (root / "flows").mkdir()
    for f in FLOW_FILES:
        shutil.copy(f, root / "flows" / f.name)
    init_repo(root)
    commit_all(root, "examples")
    return root


def _assert_clean(args: list[str], res: dict, sample: str) -> None:
    where = f"flowdoc {' '.join(args)}\n--- output ---\n{res['output'][-3000:]}\n--- flow (start) ---\n{sample}"
    assert res["exit"] in (0, 1, 2), f"exit {res['exit']!r}: {where}"
    assert "Traceback" not in res["output"], where
    assert res["cpu"] < CPU_LIMIT_S, f"{res['cpu']:.1f} s of CPU: {where}"
    assert res["rss_mb"] < RSS_LIMIT_MB, f"{res['rss_mb']:.0f} MB: {where}"


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, path + (i,))


def _mutate_value(tree, data) -> None:
    """One change to one node of the tree (in place): a hostile value, a dropped or repeated
    entry, a misspelt key, or two ids swapped."""
    paths = [p for p in _paths(tree) if p]
    path = data.draw(st.sampled_from(paths))
    *head, last = path
    parent = tree
    for k in head:
        parent = parent[k]
    op = data.draw(st.sampled_from(VALUE_OPS))
    if op == "replace":
        parent[last] = data.draw(st.sampled_from(HOSTILE) | st.text(max_size=20))
    elif op == "delete":
        del parent[last]
    elif op == "duplicate" and isinstance(parent, list):
        parent.insert(last, copy.deepcopy(parent[last]))
    elif op == "rename" and isinstance(parent, dict):
        parent[data.draw(st.sampled_from(HOSTILE[:12]) | st.text(min_size=1, max_size=8))] = parent.pop(last)
    elif op == "swap-ids" and isinstance(parent, list) and len(parent) > 1:
        j = data.draw(st.integers(0, len(parent) - 1))
        parent[last], parent[j] = parent[j], parent[last]


def _mutated(data) -> tuple[Path, str]:
    src = data.draw(st.sampled_from(FLOW_FILES))
    text = src.read_text()
    if data.draw(st.booleans()):  # text mutations: mostly invalid YAML or flows
        for _ in range(data.draw(st.integers(1, 3))):
            pos = data.draw(st.integers(0, len(text)))
            piece = data.draw(st.sampled_from(NASTY + [h for h in HOSTILE if isinstance(h, str)]) | st.text(max_size=3))
            cut = data.draw(st.sampled_from([0, 0, 1, len(piece), 40]))
            text = text[:pos] + piece + text[pos + cut:]
    else:  # value mutations: mostly valid flows, so render, diff and check go deep
        tree = yaml.safe_load(text)
        for _ in range(data.draw(st.integers(1, 3))):
            _mutate_value(tree, data)
        text = yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, width=200)
    return src, text


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(st.data())
def test_every_command_on_mutated_flows(worker, repo, data):
    src, text = _mutated(data)
    target = repo / "flows" / src.name
    target.write_text(text, encoding="utf-8", errors="surrogatepass")
    rel = f"flows/{src.name}"
    fmt = data.draw(st.sampled_from(["text", "json", "github"]))
    view = data.draw(st.sampled_from(["sequence", "state", "flowchart"]))
    rfmt = data.draw(st.sampled_from(["mermaid", "dot", "svg", "markdown"]))
    dfmt = data.draw(st.sampled_from(["text", "markdown", "json", "github"]))
    runs = [
        ["validate", "--format", fmt, data.draw(st.sampled_from([rel, "flows"]))],  # alone, or among the others
        ["lint", "--format", fmt, rel],
        ["render", rel, "--view", view, "--format", rfmt],
        ["diff", str(src.resolve()), rel, "--format", dfmt],
        ["check", "--against", "HEAD", "--format", fmt, rel],
    ]
    try:
        for args in runs:
            _assert_clean(args, worker.run(args, repo), text[:1500])
    finally:
        shutil.copy(src, target)


def test_schema_command(worker, repo):
    res = worker.run(["schema"], repo)
    _assert_clean(["schema"], res, "")
    assert res["exit"] == 0 and json.loads(res["output"])["title"] == "flowdoc flow"


def test_the_harness_sees_a_traceback_a_hang_and_memory(worker, tmp_path):
    """The checks of the fuzz test can fail: a crash, a hang, a large and a runaway allocation."""
    def bad(req: dict) -> str:
        res = worker._ask(req)
        with pytest.raises(AssertionError) as exc:
            _assert_clean(["selftest"], res, "")
        return str(exc.value)

    assert "RuntimeError: a crash inside the run" in bad({"selftest": "raise", "cwd": str(tmp_path)})
    assert "exit 'hang'" in bad({"selftest": "hang", "hang_s": 2, "cwd": str(tmp_path)})
    assert "MB:" in bad({"selftest": "alloc", "mb": int(RSS_LIMIT_MB) + 50, "cwd": str(tmp_path)})
    assert "MemoryError" in bad({"selftest": "alloc", "mb": 4096, "cwd": str(tmp_path)})  # RLIMIT_AS
    ok = worker._ask({"selftest": "alloc", "mb": 10, "cwd": str(tmp_path)})
    _assert_clean(["selftest"], ok, "")
    res = worker.run(["--no-such-option"], tmp_path)
    assert res["exit"] == 2 and "No such option" in res["output"]
