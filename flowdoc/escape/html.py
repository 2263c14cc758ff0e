"""HTML: element text and double-quoted attribute values."""

from __future__ import annotations

import html as _html


def html_text(text: object) -> str:
    """Text content of an HTML element."""
    return _html.escape("" if text is None else str(text), quote=False)


def html_attr(text: object) -> str:
    """A double-quoted HTML attribute value."""
    return _html.escape("" if text is None else str(text), quote=True)
