"""Graphviz: DOT for every view, SVG through the dot program, and the missing-dot message."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
