"""Graphviz: DOT for every view, SVG through the dot program, and the missing-dot message."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flowdoc  # noqa: E402
from flowdoc.escape import wrap_words  # noqa: E402
from flowdoc.render import VIEWS, render_diagram  # noqa: E402
from tests.data.render.hostile_flows import hostile_flows  # noqa: E402

EXAMPLE_FILES = sorted((ROOT / "flows").glob("*.yaml"))
FLOWS = {p.name: flowdoc.load_flow(p) for p in EXAMPLE_FILES}
HOSTILE = {f.id: f for f in hostile_flows()}

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed (apt-get install graphviz)")

SVG = "{http://www.w3.org/2000/svg}"


def node_texts(svg: str) -> list[str]:
    """Each node's text lines joined with spaces (Graphviz writes repeated spaces as nbsp)."""
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg"
    out = []
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node":
            out.append(" ".join((t.text or "") for t in g.iter(f"{SVG}text")).replace("\xa0", " "))
    return out


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("name", list(FLOWS))
def test_dot_source_is_accepted_by_graphviz_syntax(name, view):
    dot = render_diagram(FLOWS[name], view, "dot")
    assert dot.startswith("digraph ") and dot.rstrip().endswith("}")
    if shutil.which("dot"):
        subprocess.run(["dot", "-Tcanon"], input=dot, text=True, capture_output=True, check=True)


@needs_dot
@pytest.mark.parametrize("name", list(FLOWS))
def test_svg_of_every_example_flow(name, tmp_path):
    flow = FLOWS[name]
    for view in VIEWS:
        svg = render_diagram(flow, view, "svg")
        texts = node_texts(svg)
        (tmp_path / f"{view}.svg").write_text(svg, encoding="utf-8")
        if view == "state":
            for s in flow.states:
                assert s.label in texts, (s.label, texts)
        elif view == "flowchart":
            for s in flow.states:
                assert s.label in texts
            for t in flow.transitions:
                assert t.title in texts
        else:
            for a in flow.actors.values():
                assert a.name in texts


@needs_dot
@pytest.mark.parametrize("name", list(HOSTILE))
def test_svg_of_hostile_flows_keeps_every_label(name):
    flow = HOSTILE[name]
    texts = node_texts(render_diagram(flow, "state", "svg"))
    for s in flow.states:
        assert " ".join(wrap_words(s.label, 32)) in texts
    texts = node_texts(render_diagram(flow, "flowchart", "svg"))
    for t in flow.transitions:
        assert " ".join(wrap_words(t.title, 32)) in texts
    ET.fromstring(render_diagram(flow, "sequence", "svg"))


def _python_only_path(tmp_path: Path) -> str:
    """A PATH with no Graphviz on it (an empty folder)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    return str(empty)


def test_svg_without_dot_fails_clearly(tmp_path):
    out = tmp_path / "state.svg"
    env = {**os.environ, "PATH": _python_only_path(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "flowdoc", "render", str(ROOT / "flows" / "client-credentials.yaml"),
         "--view", "state", "--format", "svg", "-o", str(out)],
        capture_output=True, text=True, env=env, cwd=ROOT,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Graphviz" in proc.stderr and "'dot'" in proc.stderr and "apt-get install graphviz" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    # DOT and Mermaid need no Graphviz
    proc = subprocess.run(
        [sys.executable, "-m", "flowdoc", "render", str(ROOT / "flows" / "client-credentials.yaml"),
         "--view", "state", "--format", "dot"],
        capture_output=True, text=True, env=env, cwd=ROOT,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("digraph")


# ------------------------------------------------------------------------- bounds
#
# dot is an external program: a 1 MB multi-line title made it die with SIGSEGV (and flowdoc
# print a CalledProcessError traceback), a few hundred states with failure branches kept it
# busy for minutes. SVG output is bounded; each failure is a RenderError for that flow.

from flowdoc.render import RenderError, dot as dotmod  # noqa: E402
from tests.flowkit import base, to_yaml  # noqa: E402

BIG_TITLE = ("a long line of words in a state title\n") * 28_000  # ~1 MB, 28,000 lines


def _flow(data: dict, tmp_path: Path | None = None, name: str = "big.yaml"):
    text = to_yaml(data)
    if tmp_path is not None:
        (tmp_path / name).write_text(text, encoding="utf-8")
    from flowdoc.load import read_flow_text

    flow, diags = read_flow_text(text, str(tmp_path / name) if tmp_path is not None else name)
    assert flow is not None, diags.items
    return flow


def chain(n: int, failures: bool = False) -> dict:
    """An n-state chain; with ``failures`` every step has a failure branch to one shared state."""
    data = base()
    data["states"] = [{"id": f"s{i}", "title": f"State {i}"} for i in range(n)]
    data["states"][0]["initial"] = True
    data["states"][-1]["terminal"] = True
    steps = []
    for i in range(n - 1):
        t = {"id": f"t{i}", "from": f"s{i}", "to": f"s{i + 1}", "by": "app -> auth", "title": f"Step {i} onwards"}
        if failures:
            t["request"] = {"method": "POST", "path": "/x"}
            t["response"] = {"status": 200}
            t["failures"] = [{"id": "f", "when": "rejected", "response": {"status": 400}, "to": "bad", "remedy": "Fix it."}]
        else:
            t["action"] = f"Do step {i}"
        steps.append(t)
    if failures:
        data["states"].append({"id": "bad", "title": "Rejected", "terminal": True, "failure": True})
    data["transitions"] = steps
    data.pop("lifecycle", None)
    return data


def test_huge_label_is_a_render_error_not_a_crash(tmp_path):
    data = base()
    data["states"][0]["title"] = BIG_TITLE
    flow = _flow(data, tmp_path)
    for view in ("state", "flowchart"):
        with pytest.raises(RenderError) as err:
            render_diagram(flow, view, "svg")
        msg = str(err.value)
        assert msg.startswith(f"{tmp_path / 'big.yaml'}: cannot draw the {view} view as SVG")
        assert "state 'start' has a label of 1,0" in msg, msg
        assert f"limited to {dotmod.MAX_LABEL:,}" in msg
    # DOT and Mermaid are text: no limit
    assert "a long line of words" in render_diagram(flow, "state", "dot")


@needs_dot
def test_dot_crash_is_reported_with_its_signal():
    """Past the label check, dot itself dies (SIGSEGV) on such a label: reported, never raised raw."""
    data = base()
    data["states"][0]["title"] = BIG_TITLE
    data["transitions"][0]["title"] = BIG_TITLE
    source = render_diagram(_flow(data), "state", "dot")
    with pytest.raises(RenderError, match=r"Graphviz dot crashed \(SIG[A-Z]+\)|Graphviz dot failed"):
        dotmod.to_svg(source)


def test_cli_reports_the_render_error_exit_2(tmp_path):
    data = base()
    data["transitions"][0]["title"] = BIG_TITLE
    _flow(data, tmp_path)
    out = tmp_path / "state.svg"
    proc = subprocess.run(
        [sys.executable, "-m", "flowdoc", "render", str(tmp_path / "big.yaml"), "--view", "flowchart",
         "--format", "svg", "-o", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "big.yaml: cannot draw the flowchart view as SVG" in proc.stderr and "label of" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


def test_too_many_boxes_is_refused_before_dot_runs(tmp_path):
    flow = _flow(chain(dotmod.MAX_SVG_NODES + 1), tmp_path)
    with pytest.raises(RenderError, match=r"boxes; SVG output is limited to 2,000"):
        render_diagram(flow, "state", "svg")
    assert render_diagram(flow, "state", "mermaid").startswith("stateDiagram-v2")


@needs_dot
def test_dot_past_its_timeout_is_stopped(tmp_path, monkeypatch):
    """300 states with failure branches: dot runs for minutes; the timeout stops it."""
    flow = _flow(chain(300, failures=True), tmp_path)
    monkeypatch.setenv("FLOWDOC_DOT_TIMEOUT", "1")
    t0 = time.monotonic()
    with pytest.raises(RenderError, match=r"did not finish within 1 s.*FLOWDOC_DOT_TIMEOUT"):
        render_diagram(flow, "state", "svg")
    assert time.monotonic() - t0 < 30  # hang guard: the timeout ended it
    monkeypatch.setenv("FLOWDOC_DOT_TIMEOUT", "soon")
    with pytest.raises(RenderError, match="FLOWDOC_DOT_TIMEOUT='soon'"):
        render_diagram(flow, "state", "svg")


@needs_dot
def test_dot_memory_is_bounded(monkeypatch):
    source = render_diagram(_flow(chain(1000)), "sequence", "dot")
    monkeypatch.setattr(dotmod, "DOT_MEMORY", 20 * 1024 * 1024)
    with pytest.raises(RenderError, match="Graphviz dot (crashed|failed|could not run)"):
        dotmod.to_svg(source)


def test_dot_source_size_is_bounded():
    with pytest.raises(RenderError, match="DOT source is .* bytes"):
        dotmod.to_svg("digraph g {" + "a -> b;" * (dotmod.MAX_DOT_SOURCE // 7 + 1) + "}")
