"""Errors of the renderers."""

from __future__ import annotations

__all__ = ["RenderError"]


class RenderError(ValueError):
    """A view or format that does not exist, a template that fails, or an SVG diagram past
    the limits of :mod:`flowdoc.render.dot` (or that Graphviz failed to draw)."""
