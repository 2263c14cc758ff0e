"""Errors of the renderers."""

from __future__ import annotations

__all__ = ["RenderError"]


class RenderError(ValueError):
    """A view or format that does not exist, a template that fails, or a diagram past the
    render limits (:mod:`flowdoc.render.limits`)."""
