"""Snapshots of what flowdoc renders for the example flows, one reviewable file each.

    tests/__snapshots__/test_render_snapshots/test_mermaid_snapshot[client-credentials-state].mmd
    tests/__snapshots__/test_render_snapshots/test_page_snapshot[client-credentials].md

Update after an intended change with ``pytest tests/test_render_snapshots.py --snapshot-update``
and review the diff. The semantic checks live in test_render_mermaid.py and test_render_page.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

import flowdoc
from flowdoc.render import VIEWS, render_diagram, render_page

ROOT = Path(__file__).resolve().parent.parent
#: The example flows of the format (other files in flows/ are checked by the semantic tests).
EXAMPLES = ["authorization-code-pkce", "client-credentials", "gateway-login", "mfa-step-up", "silent-refresh-rotation",
            "device-authorization", "token-introspection-revocation"]


class _Text(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT


class MermaidSnapshot(_Text):
    file_extension = "mmd"
    _file_extension = "mmd"  # syrupy < 5


class MarkdownSnapshot(_Text):
    file_extension = "md"
    _file_extension = "md"


class DotSnapshot(_Text):
    file_extension = "dot"
    _file_extension = "dot"


def load(name: str):
    return flowdoc.load_flow(ROOT / "flows" / f"{name}.yaml")


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("name", EXAMPLES)
def test_mermaid_snapshot(snapshot, name, view):
    assert render_diagram(load(name), view) == snapshot(extension_class=MermaidSnapshot)


@pytest.mark.parametrize("name", EXAMPLES)
def test_page_snapshot(snapshot, name):
    assert render_page(load(name)) == snapshot(extension_class=MarkdownSnapshot)


@pytest.mark.parametrize("name", EXAMPLES)
def test_dot_state_snapshot(snapshot, name):
    assert render_diagram(load(name), "state", "dot") == snapshot(extension_class=DotSnapshot)
