"""flowdoc's Markdown extension makes Python-Markdown cheaper without changing what it writes:
the inline processor does not try a pattern on a text that lacks the character the pattern
needs (flowdoc/publish/markdown.py). Every page here is converted twice, with flowdoc's inline
processor and with Python-Markdown's own, and the HTML must be the same."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import markdown
import pytest
from markdown.treeprocessors import InlineProcessor

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flowdoc  # noqa: E402
from flowdoc.publish.markdown import EXTENSION, SkippingInlineProcessor  # noqa: E402
from flowdoc.render import render_page  # noqa: E402
from tests.data.render.hostile_flows import LABELS, hostile_flows  # noqa: E402

EXTENSIONS = ["toc", "tables", "admonition", "md_in_html", "attr_list", EXTENSION]
CONFIGS = {"toc": {"permalink": True}}


def _pair() -> tuple[markdown.Markdown, markdown.Markdown]:
    fast = markdown.Markdown(extensions=EXTENSIONS, extension_configs=CONFIGS)
    stock = markdown.Markdown(extensions=EXTENSIONS, extension_configs=CONFIGS)
    stock.treeprocessors.register(InlineProcessor(stock), "inline", 20)
    stock.treeprocessors.deregister("flowdoc_toc_marker")
    assert type(fast.treeprocessors["inline"]) is SkippingInlineProcessor
    assert type(stock.treeprocessors["inline"]) is InlineProcessor
    return fast, stock


def _same(texts: list[str]) -> None:
    fast, stock = _pair()
    for text in texts:
        assert fast.reset().convert(text) == stock.reset().convert(text), text[:200]


def test_flow_pages_convert_the_same():
    pages = [render_page(flowdoc.load_flow(p)) for p in sorted((ROOT / "flows").glob("*.yaml"))]
    pages += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").rglob("*.md"))]
    assert len(pages) > 10
    _same(pages)


def test_hostile_flow_pages_convert_the_same():
    _same([render_page(flow) for flow in hostile_flows()])


def test_hostile_text_converts_the_same():
    """Every hostile label as a paragraph, a table cell, a list item and a heading; and random
    mixes of the characters inline patterns start with."""
    texts = ["[TOC]\n\n# A\n\n## B\n", "x\n\n[TOC]\n\n- [TOC]\n\n> [TOC]\n\n## [TOC]\n\n`[TOC]`\n\n[TOC] *y*\n"]
    for label in LABELS:
        texts.append(f"{label}\n\n| a | b |\n| --- | --- |\n| {label} | x |\n\n- {label}\n\n## {label}\n")
    atoms = ["`", "``", "\\", "[", "]", "(", ")", "![", "<", ">", "&", "&amp;", "&#123;", "*", "**", "_", "__",
             "  \n", "\n", " ", "a", "b_c", "<br>", "<code>", "</code>", "<https://a.example/x>", "<a@b.c>",
             "[x](#y)", "[x][y]", "[y]: /z", "|", "{: #i }", "<!--", "-->", "http://x.example", "«n»", "\x02", "\x03"]
    rng = random.Random(15)
    for _ in range(3000):
        texts.append("".join(rng.choice(atoms) for _ in range(rng.randint(1, 25))))
    _same(texts)


def test_only_python_markdowns_own_processor_is_replaced():
    class Mine(InlineProcessor):
        pass

    from markdown import Extension

    class Other(Extension):
        def extendMarkdown(self, md):
            md.treeprocessors.register(Mine(md), "inline", 20)

    md = markdown.Markdown(extensions=[Other(), EXTENSION])
    assert type(md.treeprocessors["inline"]) is Mine


@pytest.mark.parametrize("text", ["*a* _b_ `c` [d](#e)", "plain text, no pattern", "a  \nb"])
def test_a_pattern_added_by_an_extension_is_always_tried(text):
    from markdown.inlinepatterns import SimpleTagInlineProcessor

    from markdown import Extension

    class Mark(Extension):
        def extendMarkdown(self, md):
            md.inlinePatterns.register(SimpleTagInlineProcessor(r"(\b)(text|b)\b()", "mark"), "mark", 175)

    fast = markdown.Markdown(extensions=[Mark(), EXTENSION])
    stock = markdown.Markdown(extensions=[Mark()])
    assert fast.convert(text) == stock.convert(text)
