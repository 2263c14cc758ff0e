"""Diagrams and pages from a flow.

    from flowdoc.render import render_diagram, render_page
    render_diagram(flow, "sequence")             # Mermaid sequenceDiagram
    render_diagram(flow, "state", "svg")         # Graphviz SVG (needs the dot program)
    render_page(flow)                            # the Markdown page

The flow is first turned into a neutral description (:mod:`.diagram`), then laid out
by one small renderer per language (:mod:`.mermaid`, :mod:`.dot`); pages come from
Jinja2 templates (:mod:`.page`). All escaping lives in :mod:`flowdoc.escape`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from . import diagram, dot, mermaid
from .dot import GraphvizMissing
from .errors import RenderError
from .page import render_page as _render_page

if TYPE_CHECKING:
    from ..model.flow import Flow

VIEWS = ("sequence", "state", "flowchart")
FORMATS = ("mermaid", "dot", "svg")

__all__ = ["VIEWS", "FORMATS", "RenderError", "GraphvizMissing", "render_diagram", "render_page"]


def render_diagram(flow: "Flow", view: str, fmt: str = "mermaid") -> str:
    """One view of a flow as text.

    view: ``sequence`` | ``state`` | ``flowchart``; fmt: ``mermaid`` | ``dot`` | ``svg``.
    Raises :class:`RenderError` for an unknown view or format, and for ``svg`` past the
    limits of :mod:`.dot` (size, label length, time, memory, a crash of ``dot``), and
    :class:`GraphvizMissing` when ``svg`` is asked for without Graphviz's ``dot``.
    """
    if view not in VIEWS:
        raise RenderError(f"unknown view {view!r}; choose one of {', '.join(VIEWS)}")
    if fmt not in FORMATS:
        raise RenderError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    model: diagram.Sequence | diagram.StateGraph | diagram.Flowchart
    if view == "sequence":
        model = diagram.build_sequence(flow)
    elif view == "state":
        model = diagram.build_state_graph(flow)
    else:
        model = diagram.build_flowchart(flow)
    if fmt == "mermaid":
        return getattr(mermaid, view)(model)  # one function per view, named like it
    if fmt == "dot":
        return getattr(dot, view)(model, flow.id)
    try:
        dot.check_svg_limits(model)
        return dot.to_svg(getattr(dot, view)(model, flow.id))
    except RenderError as exc:
        raise RenderError(f"{flow.file}: cannot draw the {view} view as SVG: {exc}") from None


def render_page(
    flow: "Flow",
    *,
    templates_dir: str | Path | None = None,
    changelog: list[dict] | None = None,
    context: dict | None = None,
) -> str:
    """The Markdown page of a flow (CommonMark + GFM tables, Mermaid in ```mermaid fences).

    templates_dir: a folder whose templates override the built-in ones (any file, or any
    block of ``page.md.j2`` by extending ``flowdoc/page.md.j2``).
    changelog: replaces the flow's own changelog: newest first, each
    ``{"version", "date", "notes": [...], "changes": [{"id", "level", "message"}]}``.
    context: extra values for templates (e.g. ``versions``, ``latest_url``), as ``site``.
    """
    return _render_page(flow, templates_dir=templates_dir, changelog=changelog, context=context)
