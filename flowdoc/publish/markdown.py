"""A Python-Markdown extension: ```mermaid fences become ``<pre class="flowdoc-mermaid">``.

flowdoc's script (``assets/flowdoc/flowdoc.js``) draws every ``pre.flowdoc-mermaid`` element
in the browser with Mermaid, in every theme. MkDocs' default theme knows nothing of Mermaid;
mkdocs-material draws ``pre.mermaid`` itself, but into a closed shadow root, at the width of
the column and in its own colours, so the class is flowdoc's own and no theme takes the
element. The source is HTML-escaped (Mermaid decodes the entities) and stays readable as text
when the script cannot run.

Use it by name in any mkdocs.yml (``markdown_extensions: [flowdoc.publish.markdown]``);
``flowdoc build`` and the MkDocs plugin add it themselves. It handles fences at
the top level of a page (indented up to three spaces), like Python-Markdown's
own ``fenced_code``; it runs before ``fenced_code`` and ``pymdownx.superfences``,
which still handle the other fences. It also keeps heading ids from starting with a
digit (see :class:`HeadingIdTreeprocessor`).
"""

from __future__ import annotations

import html
import re

from markdown import Extension, Markdown
from markdown import inlinepatterns as _ip
from markdown import util as _util
from markdown.extensions import toc as _toc
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import InlineProcessor, Treeprocessor

from ..escape import html_text

__all__ = ["MermaidExtension", "makeExtension", "mermaid_html", "EXTENSION"]

#: The name to list under ``markdown_extensions``.
EXTENSION = "flowdoc.publish.markdown"

FENCE = re.compile(
    r"^(?P<indent>[ ]{0,3})(?P<fence>`{3,}|~{3,})[ \t]*\{?\.?mermaid\}?[ \t]*\n"
    r"(?P<code>(?:.*\n)*?)"
    r"(?P=indent)(?P=fence)[`~]*[ \t]*$",
    re.MULTILINE,
)


#: The class of the element flowdoc's script draws.
DIAGRAM_CLASS = "flowdoc-mermaid"


def mermaid_html(source: str) -> str:
    """The element flowdoc's script draws: ``<pre class="flowdoc-mermaid">`` with the escaped source
    (``data-search-exclude``: mkdocs-material leaves the source out of its search index)."""
    return f'<pre class="{DIAGRAM_CLASS}" data-search-exclude>{html_text(source.strip())}</pre>'


def _dedent(code: str, indent: str) -> str:
    if not indent:
        return code
    n = len(indent)
    return "".join(line[n:] if line.startswith(indent) else line.lstrip(" ") for line in code.splitlines(True))


class MermaidPreprocessor(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if "mermaid" not in text:
            return lines

        def repl(m: re.Match[str]) -> str:
            code = _dedent(m.group("code"), m.group("indent"))
            placeholder = self.md.htmlStash.store(mermaid_html(code))
            return f"\n\n{placeholder}\n\n"

        return FENCE.sub(repl, text).split("\n")


def _inner_html(el, md: Markdown) -> str:
    render = getattr(_toc, "render_inner_html", None)  # Python-Markdown >= 3.8
    return render(el, md) if render is not None else "".join(el.itertext())


class HeadingIdTreeprocessor(Treeprocessor):
    """Give headings that start with a digit (``## 2.0.1 — 2026-11-26``) an id that starts with
    a letter (``v201-2026-11-26``): an id such as ``#201-2026-11-26`` is not a valid CSS
    selector, and the scroll spy of MkDocs' default theme fails on it, breaking the page's
    scripts. Runs after ``attr_list`` (explicit ids win) and before ``toc``, which keeps ids."""

    def run(self, root) -> None:
        toc = self.md.treeprocessors["toc"] if "toc" in self.md.treeprocessors else None
        if not isinstance(toc, _toc.TocTreeprocessor):
            return
        # Python-Markdown's slugify keeps a leading ASCII letter first: such a heading needs no
        # look (most headings; the look serializes the heading)
        plain = toc.slugify in (_toc.slugify, getattr(_toc, "slugify_unicode", None)) and not any(
            c.isdigit() for c in str(toc.sep))
        for el in root.iter():
            if el.tag in ("h1", "h2", "h3", "h4", "h5", "h6") and "id" not in el.attrib:
                if plain and el.text and el.text[0].isascii() and el.text[0].isalpha():
                    continue
                # the text toc makes the id from (escaped characters and entities decoded), so a
                # heading such as "{{ 7*7 }}" (id "77") is caught too
                text = html.unescape(_toc.strip_tags(_inner_html(el, self.md))).strip()
                slug = toc.slugify(text, toc.sep)
                if slug[:1].isdigit():
                    el.set("id", ("v" if re.match(r"\d+\.\d", text) else "h-") + slug)


class TocMarkerTreeprocessor(Treeprocessor):
    """toc's ``replace_marker`` puts the table of contents where a paragraph is ``[TOC]`` (its
    marker): it joins the text of every element of the page to look (some 40% of toc's time).
    Runs just before toc and has it look only when the text of some element holds the marker
    (else it would find nothing)."""

    def run(self, root) -> None:
        toc = self.md.treeprocessors["toc"] if "toc" in self.md.treeprocessors else None
        if type(toc) is not _toc.TocTreeprocessor or "replace_marker" in vars(toc):
            return
        replace = toc.replace_marker

        def replace_marker(root, elem) -> None:
            marker = toc.marker
            if any(marker in el.text for el in root.iter() if isinstance(el.text, str)):
                replace(root, elem)

        toc.replace_marker = replace_marker  # type: ignore[method-assign]


# ------------------------------------------------------------------ inline patterns, skipped
#
# Python-Markdown tries each of its ~14 inline patterns on every piece of text (a table cell, a
# list item), each a regular expression search, most of which cannot match: a page of flowdoc
# has some 250 pieces of text, and these searches were half of its conversion. A pattern whose
# expression cannot match without a character (a code span without a backtick, a link without
# '[', an entity without '&') is skipped when the text has none of those characters: it would
# not have matched, so the result is the same. Only Python-Markdown's own patterns, known by
# their class and expression, are skipped; any other pattern is always tried.

#: (class, expression) -> characters one of which the expression needs to match
_NEEDS: dict[tuple[type, str], str] = {
    (_ip.BacktickInlineProcessor, _ip.BACKTICK_RE): "`",
    (_ip.EscapeInlineProcessor, _ip.ESCAPE_RE): "\\",
    (_ip.ReferenceInlineProcessor, _ip.REFERENCE_RE): "[",
    (_ip.LinkInlineProcessor, _ip.LINK_RE): "[",
    (_ip.ShortReferenceInlineProcessor, _ip.REFERENCE_RE): "[",
    (_ip.ImageInlineProcessor, _ip.IMAGE_LINK_RE): "[",
    (_ip.ImageReferenceInlineProcessor, _ip.IMAGE_REFERENCE_RE): "[",
    (_ip.ShortImageReferenceInlineProcessor, _ip.IMAGE_REFERENCE_RE): "[",
    (_ip.AutolinkInlineProcessor, _ip.AUTOLINK_RE): "<",
    (_ip.AutomailInlineProcessor, _ip.AUTOMAIL_RE): "<",
    (_ip.SubstituteTagInlineProcessor, _ip.LINE_BREAK_RE): "\n",
    (_ip.HtmlInlineProcessor, _ip.HTML_RE): "<",
    (_ip.HtmlInlineProcessor, _ip.ENTITY_RE): "&",
}


def _needs(pattern: object) -> frozenset[str] | None:
    """The characters one of which a pattern needs in a text to match (None: unknown, always tried)."""
    delimiters = getattr(_ip, "DelimiterProcessor", None)  # Python-Markdown >= 3.9: * and _ emphasis
    if delimiters is not None and type(pattern) is delimiters:
        tokens = list(getattr(pattern, "tokens", ()))
        ok = tokens and all(isinstance(t, str) and t for t in tokens)
        return frozenset(t[0] for t in tokens) if ok else None
    compiled = getattr(pattern, "compiled_re", None)
    need = _NEEDS.get((type(pattern), compiled.pattern)) if compiled is not None else None
    return frozenset(need) if need else None


class SkippingInlineProcessor(InlineProcessor):
    """Python-Markdown's inline processor, which does not try a pattern on a text that lacks
    what the pattern needs (see above); otherwise exactly the same steps."""

    def run(self, tree, ancestors=None):
        self._patterns = list(self.inlinePatterns)
        self._needs = [_needs(p) for p in self._patterns]
        return super().run(tree, ancestors)

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803
        # InlineProcessor.__handleInline, name-mangled: the base class calls this one
        if isinstance(data, _util.AtomicString):
            return data
        patterns, needs = self._patterns, self._needs
        apply = getattr(self, "_InlineProcessor__applyPattern")  # noqa: B009 (name-mangled, checked at registration)
        start, count = 0, len(patterns)
        chars = set(data)
        while patternIndex < count:
            need = needs[patternIndex]
            if need is not None and need.isdisjoint(chars):
                patternIndex, start = patternIndex + 1, 0  # as when the pattern does not match
                continue
            data, matched, start = apply(patterns[patternIndex], data, patternIndex, start)
            if matched:
                chars = set(data)
            else:
                patternIndex += 1
        return data


#: the private methods SkippingInlineProcessor stands in for exist in this Python-Markdown (else the stock one is kept)
_STOCK_INLINE = all(hasattr(InlineProcessor, f"_InlineProcessor__{n}") for n in ("handleInline", "applyPattern"))


class MermaidExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        # after normalize_whitespace (30), before fenced_code / superfences (25) and html_block (20)
        md.preprocessors.register(MermaidPreprocessor(md), "flowdoc_mermaid", 28)
        md.treeprocessors.register(HeadingIdTreeprocessor(md), "flowdoc_heading_ids", 6)
        md.treeprocessors.register(TocMarkerTreeprocessor(md), "flowdoc_toc_marker", 5.5)  # toc: 5
        if "inline" in md.treeprocessors and type(md.treeprocessors["inline"]) is InlineProcessor and _STOCK_INLINE:
            md.treeprocessors.register(SkippingInlineProcessor(md), "inline", 20)  # Python-Markdown's priority


def makeExtension(**kwargs) -> MermaidExtension:  # noqa: N802 (Python-Markdown's name)
    return MermaidExtension(**kwargs)
