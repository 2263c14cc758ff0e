"""The one error of publishing: :class:`PublishError` (its own module, so every publish module can raise it)."""

from __future__ import annotations

from typing import Iterable

from ..diagnostics import Diagnostic, format_text

__all__ = ["PublishError"]


class PublishError(Exception):
    """The site cannot be built; ``diagnostics`` holds the flow problems (FILE:LINE:COL)."""

    def __init__(self, message: str, diagnostics: Iterable[Diagnostic] = ()):
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        self.message = message
        text = message
        if self.diagnostics:
            text += "\n" + format_text(self.diagnostics)
        super().__init__(text)
