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
    md_heading,
    md_text,
    mermaid_label,
    mermaid_text,
    unwrap,
    wrap_words,
)

from tests.data.render.injection import BAD_URLS as INJECTION_BAD_URLS  # noqa: E402
from tests.data.render.injection import ODD_URLS as INJECTION_ODD_URLS  # noqa: E402
from tests.data.render.injection import TEXTS as INJECTION_TEXTS  # noqa: E402

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
    return list(zip(cases, results, strict=True))


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


# ------------------------------------------- Markdown as MkDocs reads it (Python-Markdown)
#
# The site is built by MkDocs, whose Markdown is Python-Markdown with extensions: what
# CommonMark reads as text (``\<``, ``{: ...}``) may be syntax there. Every escape is checked
# with MkDocs' set and with a rich set of extensions sites commonly add.

MKDOCS_EXTENSIONS = ["toc", "tables", "admonition", "md_in_html", "attr_list", "flowdoc.publish.markdown"]
RICH_EXTENSIONS = MKDOCS_EXTENSIONS + [
    "def_list", "abbr", "footnotes", "pymdownx.details", "pymdownx.tilde", "pymdownx.superfences",
    "pymdownx.tabbed", "pymdownx.caret", "pymdownx.mark", "pymdownx.keys",
]  # not pymdownx.critic: its markup is read before anything else, even inside code spans


class _Tree(HTMLParser):
    """Tags with their attributes, and the text, of an HTML fragment."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.parts: list[str] = []
        self.cells: list[str] = []
        self._in_cell = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "td":
            self.cells.append("")
            self._in_cell = True
        elif tag == "br" and self._in_cell:
            self.cells[-1] += "\n"

    def handle_endtag(self, tag):
        if tag == "td":
            self._in_cell = False

    def handle_data(self, data):
        self.parts.append(data)
        if self._in_cell:
            self.cells[-1] += data

    @property
    def text(self) -> str:
        return "".join(self.parts).strip("\n")


def pymd(markdown_text: str, rich: bool = False) -> _Tree:
    import markdown

    html = markdown.Markdown(extensions=RICH_EXTENSIONS if rich else MKDOCS_EXTENSIONS).convert(markdown_text)
    return _Tree(html)


def _only(tree: _Tree, allowed: dict[str, set[str]]) -> None:
    for tag, attrs in tree.tags:
        assert tag in allowed, (tag, attrs)
        assert set(attrs) <= allowed[tag], (tag, attrs)
        if "href" in attrs:
            assert attrs["href"].startswith(("http://", "https://")), attrs


INLINE = {"p": set(), "a": {"href"}, "code": set()}


@pytest.mark.parametrize("rich", [False, True], ids=["mkdocs", "rich"])
@pytest.mark.parametrize("text", INJECTION_TEXTS + HOSTILE)
def test_md_text_is_literal_text_for_python_markdown(text, rich):
    """The reader sees exactly the text: no stray backslash (``\\<v2> \\& friends``), no element,
    no attribute (attr_list's ``{: onfocus=...}``), no link but http(s) autolinks."""
    tree = pymd("x " + md_text(text), rich)
    _only(tree, INLINE)
    # (the reader sees HTML: a run of white space reads as one space)
    assert tree.text.split() == ("x " + text).split()


@pytest.mark.parametrize("rich", [False, True], ids=["mkdocs", "rich"])
@pytest.mark.parametrize("text", INJECTION_TEXTS + HOSTILE)
def test_md_heading_keeps_attr_list_out(text, rich):
    tree = pymd("# " + md_heading(text), rich)
    _only(tree, {"h1": {"id"}, "a": {"href"}})
    assert tree.tags[0][0] == "h1" and set(tree.tags[0][1]) == {"id"}
    assert tree.text.split() == text.split()


@pytest.mark.parametrize("rich", [False, True], ids=["mkdocs", "rich"])
@pytest.mark.parametrize("text", INJECTION_TEXTS + HOSTILE + ["a|b", "a\\|b", "`a|b`"])
def test_md_cell_and_code_cell_for_python_markdown(text, rich):
    tree = pymd("| a | b |\n| --- | --- |\n| " + md_cell(text) + " | " + md_code_cell(text) + " |\n", rich)
    allowed = {t: set() for t in ("table", "thead", "tbody", "tr", "th", "td", "br", "code")} | {"a": {"href"}}
    _only(tree, allowed)
    assert len(tree.cells) == 2
    assert [line.split() for line in tree.cells[0].split("\n")] == [line.split() for line in text.strip().split("\n")]
    assert tree.cells[1].split() == text.split()


@pytest.mark.parametrize("rich", [False, True], ids=["mkdocs", "rich"])
@pytest.mark.parametrize("text", INJECTION_TEXTS + ["`", "``", "a`b", "x" * 3])
def test_md_code_for_python_markdown(text, rich):
    tree = pymd("x " + md_code(text), rich)
    _only(tree, {"p": set(), "code": set()})
    assert tree.text == "x " + text.strip()


def test_control_characters_are_shown_as_pictures_never_placeholders():
    # Python-Markdown's stash placeholders are \x02...\x03: author text must not reach them
    tree = pymd("x " + md_text("a\x02wzxhzdk:0\x03b") + "\n\n<br>")
    assert "a\u2402wzxhzdk:0\u2403b" in tree.text
    assert md_code("\x02x\x7f") == "`\u2402x\u2421`"


# --------------------------------------------------------------------------- links


@pytest.mark.parametrize("url", INJECTION_BAD_URLS)
def test_links_never_have_another_scheme_than_http(url):
    assert escape.link_problem(url) is not None
    for rich in (False, True):
        tree = pymd(escape.md_link("guide", url), rich)
        assert [t for t, _ in tree.tags if t == "a"] == []
        # even forced into a link by a template, the destination is a harmless relative URL
        tree = pymd(f"[guide]({escape.md_url(url)})", rich)
        hrefs = [a["href"] for t, a in tree.tags if t == "a"]
        assert len(hrefs) == 1 and ":" not in hrefs[0].split("/")[0], hrefs
    p = html_of(f"[guide]({escape.md_url(url)})")
    assert "javascript:" not in MD.render(f"[guide]({escape.md_url(url)})").lower()
    assert p.parts


@pytest.mark.parametrize("url", INJECTION_ODD_URLS + ["https://example.com/a?b=1&c=2", "guide.md"])
def test_link_text_and_url_are_safe_in_both_dialects(url):
    """``links.authorization_guide: "![x](y)"`` once crashed Python-Markdown's HTML parser."""
    assert escape.link_problem(url) is None
    md = escape.md_link("Authorization [Guide] <b>", url)
    for rich in (False, True):
        tree = pymd(md, rich)
        links = [a for t, a in tree.tags if t == "a"]
        assert len(links) == 1 and set(links[0]) == {"href"}
        assert tree.text == "Authorization [Guide] <b>"
        assert not any(c in links[0]["href"] for c in ' <>"\\')
    assert html_of(md).parts and MD.render(md).count("<a ") == 1


def test_md_url_keeps_queries_and_encodes_only_what_it_must():
    assert escape.md_url("https://example.com/a?b=1&c=2#x") == "https://example.com/a?b=1&c=2#x"
    assert escape.md_url("https://example.com/a b/(c)") == "https://example.com/a%20b/(c)"
    assert escape.md_url("https://example.com/a)b(") == "https://example.com/a%29b%28"
    assert escape.md_url("https://example.com/?x=&lt;") == "https://example.com/?x=%3C"
    assert escape.md_url("javascript:alert(1)") == "javascript%3Aalert(1)"
    assert escape.md_link("t", "javascript:alert(1)") == "t (`javascript:alert(1)`)"


# printable ASCII punctuation is where the syntax is: draw from it often
md_chars = st.one_of(text_chars, st.sampled_from(list("\\`*_{}[]()<>#+-.!|~^=:&;'\"/?%$@ ")))


@settings(max_examples=300, deadline=None)
@given(st.text(md_chars, max_size=40))
def test_md_text_property_python_markdown(text):
    tree = pymd("x " + md_text(text), rich=True)
    _only(tree, INLINE)
    assert tree.text.split() == ("x " + text).split()


@settings(max_examples=200, deadline=None)
@given(st.text(md_chars, max_size=40).filter(str.strip))
def test_md_heading_property_python_markdown(text):
    tree = pymd("# " + md_heading(text) + "\n\nafter")
    assert [t for t, _ in tree.tags] == ["h1", "p"] and set(tree.tags[0][1]) == {"id"}
    assert tree.text.split("\n")[0].split() == text.split()


@pytest.mark.parametrize(
    "text, width, lines",
    [
        ("  abcdefghij kl m", 5, ["  abcdefghij", "kl m"]),  # a line breaks only after a word
        ("ab  cd ef", 2, ["ab", " cd", "ef"]),
        ("one two three four five six", 9, ["one two", "three", "four five", "six"]),
        ("x" * 12 + " y z", 4, ["x" * 12, "y z"]),
        ("   ", 1, ["   "]),
        (" a b c ", 3, [" a", "b c", ""]),
        ("a\n\nbb cc dd", 4, ["a", "", "bb", "cc", "dd"]),
    ],
)
def test_wrap_words_breaks_greedily_at_the_last_space_that_fits(text, width, lines):
    assert wrap_words(text, width) == lines


def test_wrap_words_of_a_huge_label_is_quick():
    """Hang guard: wrapping searches back within the width, never over the whole rest."""
    import time

    start = time.monotonic()
    for text in ["a " * 200_000, "x" * 50 + " " + "y" * 200_000, ("z" * 40 + "  ") * 20_000, " " * 200_000 + "q"]:
        lines = wrap_words(text, 32)
        assert " ".join(lines) == text
    assert time.monotonic() - start < 30
