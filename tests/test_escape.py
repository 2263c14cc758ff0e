"""flowdoc.escape: every output language's escaping, checked by that language's own parser.

Mermaid labels go through Mermaid itself (one Node process for the whole module), Markdown
through markdown-it-py (CommonMark + GFM tables), DOT through Graphviz when it is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flowdoc import escape  # noqa: E402
from flowdoc.escape import (  # noqa: E402
    IdMap,
    dot_html,
    dot_string,
    html_attr,
    html_text,
    md_cell,
    md_code,
    md_code_cell,
    md_text,
    mermaid_label,
    mermaid_text,
    unwrap,
    wrap_words,
)

HOSTILE = json.loads((Path(__file__).parent / "data" / "render" / "hostile_labels.json").read_text("utf-8"))["labels"]

MD = MarkdownIt("commonmark").enable("table").enable("strikethrough")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.cells: list[str] = []
        self.codes: list[str] = []
        self._cell: list[str] | None = None
        self._code: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "th"):
            self._cell = []
        if tag == "code":
            self._code = []
        if tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None
        if tag == "code" and self._code is not None:
            self.codes.append("".join(self._code))
            self._code = None

    def handle_data(self, data):
        self.parts.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._code is not None:
            self._code.append(data)


def html_of(markdown: str) -> _Text:
    p = _Text()
    p.feed(MD.render(markdown))
    p.close()
    return p


def paragraph_text(markdown: str) -> str:
    html = MD.render(markdown)
    assert html.startswith("<p>"), html  # still one paragraph: no heading, list, quote, code block
    p = _Text()
    p.feed(html)
    return "".join(p.parts).strip("\n")


# ---------------------------------------------------------------- Mermaid (unit)


def test_mermaid_text_encodes_syntax_characters():
    assert mermaid_text("scope=openid; offline") == "scope=openid#59; offline"
    assert mermaid_text("deploy #2") == "deploy #35;2"
    assert mermaid_text('a: <b> "c" %% {d} [e] | `f` \\') == (
        "a#58; #lt;b#gt; #quot;c#quot; #37;#37; #123;d#125; #91;e#93; #124; #96;f#96; #92;"
    )
    assert mermaid_text("  x ") == "#32;#32;x#32;"
    assert mermaid_text("tab\there") == "tab#9;here"


def test_mermaid_label_keywords_and_wrapping():
    assert mermaid_label("end") == "#101;nd"
    assert mermaid_label("else") == "#101;lse"
    assert mermaid_label("the end") == "the end"
    wrapped = mermaid_label("one two three four five six", 9)
    assert wrapped == "one two<br/>three<br/>four five<br/>six"
    assert unwrap(wrapped) == "one two three four five six"
    assert mermaid_label("a\nb") == "a<br/>b"


@pytest.mark.parametrize("text", HOSTILE + ["", "a", "a  b", "  ", "x" * 200])
@pytest.mark.parametrize("width", [0, 1, 10, 40])
def test_wrap_words_keeps_every_character(text, width):
    lines = wrap_words(text, width)
    assert " ".join(lines) == text.replace("\n", " ")
    if width > 1:
        for line in lines:
            assert len(line) <= width or " " not in line.strip(" ")


def test_id_map_is_safe_stable_and_unique():
    ids = IdMap("s")
    keys = ["end", "alt", "mfa-pending", "mfa_pending", "mfa pending", "", "😀", "é", "1abc", "END", "state", "a" * 100]
    got = [ids[k] for k in keys]
    assert len(set(g.lower() for g in got)) == len(keys)
    for g in got:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", g), g
        assert g.lower() not in escape.MERMAID_RESERVED
        assert len(g) <= 60
    assert [ids[k] for k in keys] == got  # stable
    assert ids.fresh("end") not in got


# -------------------------------------------------------------- Mermaid (parsed)


def _contexts(m: str) -> list[str]:
    """One diagram per Mermaid label context, holding the encoded label ``m`` everywhere."""
    return [
        "sequenceDiagram\n"
        f"    participant p_a as {m}\n"
        f"    actor p_b as {m}\n"
        f"    p_a->>p_b: {m}\n"
        f"    alt {m}\n        p_b--xp_a: {m}\n    else {m}\n        p_b-->>p_a: {m}\n    end\n"
        f"    par {m}\n        p_a->>p_a: {m}\n    and {m}\n        p_a-)p_b: {m}\n    end\n"
        f"    Note over p_a,p_b: {m}\n"
        f"    Note over p_a: {m}\n",
        "stateDiagram-v2\n"
        f'    state "{m}" as s_a\n'
        "    state c_x <<choice>>\n"
        "    [*] --> s_a\n"
        f"    s_a --> c_x : {m}\n"
        f"    c_x --> s_a : {m}\n"
        "    s_a --> [*]\n",
        "flowchart TD\n"
        f'    n_a(["{m}"])\n    n_b("{m}")\n    n_c["{m}"]\n    n_d{{"{m}"}}\n'
        f'    n_a -->|"{m}"| n_b\n    n_b -.->|"{m}"| n_c\n    n_c --> n_d\n',
    ]


def _labels(result: dict) -> list[str]:
    lab = result["labels"]
    if result["type"] == "sequence":
        out = [p["name"] for p in lab["participants"]]
        out += [m["text"] for m in lab["messages"]]
        out += [n["text"] for n in lab["notes"]]
        for b in lab["body"]:
            if b["kind"] == "block":
                out += [s["text"] for s in b["sections"]]
        assert len(out) == 2 + 5 + 2 + 4
        return out
    if result["type"] == "stateDiagram":
        out = [s["text"] for s in lab["states"] if s["id"] == "s_a"]
        out += [t["text"] for t in lab["transitions"] if t["text"]]
        assert len(out) == 3
        return out
    out = [v["text"] for v in lab["vertices"]] + [e["text"] for e in lab["edges"] if e["text"]]
    assert len(out) == 6
    return out


@pytest.fixture(scope="module")
def mermaid_contexts():
    from tests.support.mermaid import parse_mermaid

    cases = []
    for text in HOSTILE:
        for width in (0, 24):
            for src in _contexts(mermaid_label(text, width)):
                cases.append((text, width, src))
    results = parse_mermaid([c[2] for c in cases])
    return list(zip(cases, results))


@pytest.mark.node
def test_every_hostile_label_round_trips_in_every_mermaid_context(mermaid_contexts):
    problems = []
    for (text, width, src), res in mermaid_contexts:
        if not res["ok"]:
            problems.append(f"{text!r} (width {width}) does not parse: {res['error']}\n{src}")
            continue
        for got in _labels(res):
            if unwrap(got) != unwrap(text):
                problems.append(f"{text!r} (width {width}) reads {got!r}")
    assert not problems, "\n".join(problems[:20])


# --------------------------------------------------------------------- Markdown


@pytest.mark.parametrize("text", [t for t in HOSTILE if "\n" not in t])
def test_md_text_round_trips(text):
    assert paragraph_text("x " + md_text(text)) == ("x " + text.strip(" \t")).strip()


@pytest.mark.parametrize(
    "text",
    ["# not a heading", "- not a list", "+ nor this", "1. nor this", "2) nor this", "> not a quote",
     "---", "===", "    not code", "<div>not html</div>", "[not](a link)", "![no](image)", "*no* _emphasis_",
     "__init__", "~~no strike~~", "a\\", "trailing  ", "&amp; stays", "`no code`", "| a | b |", "[x]: /ref"],
)
def test_md_text_neutralises_block_and_inline_syntax(text):
    assert paragraph_text(md_text(text)) == text.strip()


def test_md_text_multiline_keeps_lines_and_autolinks():
    html = MD.render(md_text("See https://example.com/a_b?c=1&d=2.\n# still text"))
    assert '<a href="https://example.com/a_b?c=1&amp;d=2">https://example.com/a_b?c=1&amp;d=2</a>.' in html
    assert "<h1>" not in html


@pytest.mark.parametrize("text", HOSTILE + ["a\nb", "a|b", "a\\|b", "- x", "1. x"])
def test_md_cell_and_code_cell_round_trip_in_a_gfm_table(text):
    md = "| a | b |\n| --- | --- |\n| " + md_cell(text) + " | " + md_code_cell(text) + " |\n"
    p = html_of(md)
    assert len(p.cells) == 4, MD.render(md)
    assert p.cells[2] == text.strip(" \t") or p.cells[2] == text.strip()
    assert p.codes == [text.replace("\n", " ")]


@pytest.mark.parametrize("text", ["`", "``", "a`b", "`a`", " a ", "  ", "x"])
def test_md_code_spans(text):
    p = html_of("x " + md_code(text))
    assert p.codes == [text]


# any character but controls, surrogates and whitespace other than the plain space
text_chars = st.one_of(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), st.just(" "))


@settings(max_examples=300, deadline=None)
@given(st.text(text_chars, max_size=40))
def test_md_text_property(text):
    assert paragraph_text("x " + md_text(text)) == ("x " + text.strip()).strip()


@settings(max_examples=300, deadline=None)
@given(st.text(text_chars, max_size=40))
def test_md_cell_property(text):
    p = html_of("| a | b |\n| --- | --- |\n| " + md_cell(text) + " | " + md_code_cell(text) + " |\n")
    assert p.cells == ["a", "b", text.strip(), p.cells[3]]
    if text:
        assert p.codes == [text]


# ------------------------------------------------------------------ HTML and DOT


def test_html_escapes():
    assert html_text('<a href="x">&</a>') == '&lt;a href="x"&gt;&amp;&lt;/a&gt;'
    assert html_attr('"x" & \'y\'') == "&quot;x&quot; &amp; &#x27;y&#x27;"


def test_dot_strings():
    assert dot_string('say "hi"') == '"say \\"hi\\""'
    assert dot_string("a\\nb") == '"a\\\\nb"'
    assert dot_string("line\nbreak") == '"line\\nbreak"'
    assert dot_html("<b>&\"[x]") == "&lt;b&gt;&amp;&quot;&#91;x&#93;"


def svg_node_texts(svg: str) -> dict[str, str]:
    """Node name → its text lines joined with spaces (non-breaking spaces read as spaces)."""
    import xml.etree.ElementTree as ET

    ns = "{http://www.w3.org/2000/svg}"
    out = {}
    for g in ET.fromstring(svg).iter(f"{ns}g"):
        if g.get("class") == "node":
            name = g.find(f"{ns}title").text
            out[name] = " ".join((t.text or "") for t in g.iter(f"{ns}text")).replace("\xa0", " ")
    return out


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
def test_dot_labels_round_trip_through_graphviz():
    """Every hostile label, as a quoted and as an HTML-like label, reaches Graphviz's SVG intact."""
    lines = ["digraph g {"]
    for i, text in enumerate(HOSTILE):
        lines.append(f'  "q{i}" [label={dot_string(text)}];')
        lines.append(f'  "h{i}" [label=<{dot_html(text)}>];')
    lines.append("}")
    out = subprocess.run(["dot", "-Tsvg"], input="\n".join(lines), capture_output=True, text=True, check=True)
    texts = svg_node_texts(out.stdout)
    for i, text in enumerate(HOSTILE):
        assert texts[f"q{i}"] == text.replace("\n", " "), text
        assert texts[f"h{i}"] == text.replace("\n", " "), text
