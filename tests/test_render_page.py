"""The Markdown page: structure checked with markdown-it-py (CommonMark + GFM tables), text
checked against the flow, secrets never printed, templates overridable."""

from __future__ import annotations

import datetime as dt
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flowdoc  # noqa: E402
from flowdoc.load import read_flow_text  # noqa: E402
from flowdoc.render import render_diagram, render_page  # noqa: E402
from flowdoc.render import diagram as D  # noqa: E402
from flowdoc.render import labels as L  # noqa: E402
from tests.flowkit import base, to_yaml  # noqa: E402
from tests.data.render.hostile_flows import SECRET_DEFAULT, hostile_data, hostile_flow, hostile_flows  # noqa: E402
from tests.data.render.injection import TEXTS as INJECTION_TEXTS  # noqa: E402

MD = MarkdownIt("commonmark").enable("table")
#: the HTML blocks the page template writes itself (no author text in them)
OWN_HTML_BLOCK = re.compile(
    r'(<div class="flowdoc-table" markdown="1">|</div>|</details>'
    r'|<details class="flowdoc-details[a-z -]*" markdown="1"( open)?>\n<summary>[^<>]*</summary>)\n?'
)

EXAMPLE_FILES = sorted((ROOT / "flows").glob("*.yaml"))
FLOWS = {p.name: flowdoc.load_flow(p) for p in EXAMPLE_FILES}
HOSTILE = {f.id: f for f in hostile_flows()}
ALL = {**FLOWS, **HOSTILE}

STEPS = ["Step", "From → To", "Method", "Endpoint", "Key parameters", "Expected response"]
GUARDS = ["Transition", "From → To", "Guard", "Triggered by"]
FAILURES = ["Branch", "Status", "Error code", "Cause", "Remedy"]
TROUBLE = ["Error or symptom", "Status", "Cause", "Remedy"]
PARTICIPANTS = ["Participant", "Kind", "Base URL", "Description"]
INPUTS = ["Input", "Description", "Example", "Environment variable"]
TOKENS = ["Token", "Format", "Lifetime", "Idle timeout", "Refresh ahead", "Rotation", "Revocation", "Notes"]
STORAGE = ["Platform", "Where to keep tokens"]


class Page(HTMLParser):
    """Tables, headings, blockquotes and text of the rendered HTML."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.headings: list[tuple[str, str]] = []
        self.quotes: list[str] = []
        self.links: list[tuple[str, str]] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._head: list[str] | None = None
        self._quote_depth = 0
        self._quote: list[str] = []
        self._link: list | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"headers": [], "rows": []})
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")
        elif tag in ("h1", "h2", "h3", "h4"):
            self._head = [tag]
        elif tag == "blockquote":
            self._quote_depth += 1
        elif tag == "a":
            self._link = [dict(attrs).get("href"), []]

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            t = self.tables[-1]
            if not t["headers"]:
                t["headers"] = self._row
            else:
                t["rows"].append(self._row)
            self._row = None
        elif tag in ("h1", "h2", "h3", "h4") and self._head:
            self.headings.append((self._head[0], "".join(self._head[1:])))
            self._head = None
        elif tag == "blockquote":
            self._quote_depth -= 1
            if not self._quote_depth:
                self.quotes.append("".join(self._quote))
                self._quote = []
        elif tag == "a" and self._link:
            self.links.append((self._link[0], "".join(self._link[1])))
            self._link = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._head is not None:
            self._head.append(data)
        if self._quote_depth:
            self._quote.append(data)
        if self._link is not None:
            self._link[1].append(data)

    def table(self, headers: list[str]) -> dict | None:
        found = [t for t in self.tables if t["headers"] == headers]
        assert len(found) <= 1
        return found[0] if found else None


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return {name: render_page(flow) for name, flow in ALL.items()}


def parse(md: str) -> Page:
    return Page(MD.render(md))


def first_line(text: str) -> str:
    return text.split("\n")[0]


# -------------------------------------------------------------------- structure


@pytest.mark.parametrize("name", list(ALL))
def test_page_structure(pages, name):
    flow = ALL[name]
    md = pages[name]
    page = parse(md)

    # title and sections (a deprecated flow says so in its title)
    deprecated = flow.status.value == "deprecated"
    assert page.headings[0] == ("h1", flow.title.strip() + (" (deprecated)" if deprecated else ""))
    h2 = [t for h, t in page.headings if h == "h2"]
    for section in ["Participants", "Sequence", "Steps", "States", "Decisions", "Next: authorization"]:
        assert section in h2
    assert ("Failures" in h2) == any(t.failures for t in flow.transitions)
    assert ("Token lifecycle" in h2) == (flow.lifecycle is not None)
    assert "Changelog" in h2 if flow.changelog else True

    # the three diagrams, in ```mermaid fences, exactly as render_diagram makes them
    fences = [t for t in MD.parse(md) if t.type == "fence"]
    assert [(f.info, f.content) for f in fences] == [
        ("mermaid", render_diagram(flow, v)) for v in ("sequence", "state", "flowchart")
    ]

    order = D.ordered_transitions(flow)
    _assert_steps_table(page, flow, order)
    _assert_guards_table(page, flow, order)
    _assert_failures_table(page, order)

    # troubleshooting: only what the failure table does not say
    trouble = page.table(TROUBLE)
    assert (trouble is None) if not flow.troubleshooting else len(trouble["rows"]) == len(flow.troubleshooting)
    if flow.troubleshooting:
        assert [(r[0], r[2], r[3]) for r in trouble["rows"]] == [
            (x.error.strip(), x.cause.strip(), x.remedy.strip()) for x in flow.troubleshooting
        ]

    assert len(page.table(PARTICIPANTS)["rows"]) == len(flow.actors)
    assert [r[0] for r in page.table(PARTICIPANTS)["rows"]] == [a.name.strip() for a in flow.actors.values()]
    if flow.inputs:
        assert len(page.table(INPUTS)["rows"]) == len(flow.inputs)
    if flow.lifecycle and flow.lifecycle.tokens:
        assert len(page.table(TOKENS)["rows"]) == len(flow.lifecycle.tokens)
    if flow.lifecycle and flow.lifecycle.storage:
        assert [r[1] for r in page.table(STORAGE)["rows"]] == [v.strip() for v in flow.lifecycle.storage.values()]

    # the handoff callout, with the link to the authorization guide
    handoffs = [s.handoff for s in flow.states if s.handoff]
    callout = page.quotes[-1]
    for h in handoffs:
        assert h.strip() in callout
    if flow.links.authorization_guide:
        assert (flow.links.authorization_guide, "Authorization Guide") in page.links


def _assert_steps_table(page, flow, order) -> None:
    """One row a step, in order: number and title, method, path, key parameters, response."""
    steps = page.table(STEPS)
    assert steps is not None and len(steps["rows"]) == len(flow.transitions)
    for row, t in zip(steps["rows"], order, strict=True):
        assert row[0].startswith(f"{order.index(t) + 1}. {t.title.strip()}")
        if t.request is not None:
            assert row[2] == t.request.method
            assert row[3].split("\n")[0] == t.request.path.strip() or row[3].split("\n")[0] == t.request.path
            for p in D.key_params(flow, t.request):
                assert p in row[4]
            _assert_response_cell(row[5], flow, t)


def _assert_response_cell(cell: str, flow, t) -> None:
    """The documented response; for a polled step, then how it polls and its intermediate answers."""
    if t.request.poll is None:
        assert cell == D.response_label(flow, t.response, D.telling_fields(t)).strip()
        return
    first, _, rest = cell.partition("\n")
    assert first == D.response_label(flow, t.response, D.telling_fields(t)).strip()
    assert rest.startswith(("From step", "Poll"))
    for a in t.request.poll.pending:
        assert f"{D.status_text(a.status)} {a.error}: poll again" in rest


def _assert_guards_table(page, flow, order) -> None:
    """Every guard in the guard table."""
    guards = page.table(GUARDS)
    assert guards is not None and len(guards["rows"]) == len(flow.transitions)
    for row, t in zip(guards["rows"], order, strict=True):
        if t.guard:
            assert first_line(row[2]) == t.guard.text.strip()
            if t.guard.expr:
                assert row[2].split("\n")[1] == t.guard.expr
        else:
            assert row[2] == "—"
        if t.trigger:
            assert row[3] == t.trigger.strip()


def _assert_failures_table(page, order) -> None:
    """Every failure branch in the failure table (and no table without one)."""
    failures = [(t, f) for t in order for f in t.failures]
    table = page.table(FAILURES)
    if not failures:
        assert table is None
        return
    assert table is not None and len(table["rows"]) == len(failures)
    for row, (_t, f) in zip(table["rows"], failures, strict=True):
        assert first_line(row[0]) == D.failure_name(f).strip()
        assert row[1] == ("/".join(map(str, f.response.statuses)) if f.response.outcome == "response" else "—")
        assert row[2] == (f.response.error or "—")
        assert row[3] == f.when.strip()
        assert row[4].startswith(f.remedy.strip())


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_text_reaches_the_reader(pages, name):
    flow = HOSTILE[name]
    label = flow.title
    page = parse(pages[name])
    text = "".join(page.text)
    assert page.headings[0][1] == label.strip()
    assert label.strip() in text
    changelog = [t for h, t in page.headings if h == "h3"]
    assert "1.0.0 — " not in changelog  # no date given
    # the raw Markdown never lets author text start a block of its own: the only HTML blocks
    # are the page's own boxes (tables that scroll, collapsible sections)
    toks = MD.parse(pages[name])
    assert "code_block" not in [t.type for t in toks]
    for t in toks:
        if t.type == "html_block":
            assert OWN_HTML_BLOCK.fullmatch(t.content), t.content


class _Elements(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict]] = []
        self.h1: list[str] = []
        self._in_h1 = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))
        self._in_h1 = self._in_h1 or tag == "h1"
        if tag == "h1":
            self.h1.append("")

    def handle_endtag(self, tag):
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data):
        if self._in_h1:
            self.h1[-1] += data


INJECTION = {f"injection-{n}": hostile_flow(n, text) for n, text in enumerate(INJECTION_TEXTS)}


@pytest.mark.parametrize("name", list(INJECTION) + list(HOSTILE))
def test_page_as_mkdocs_reads_it_has_no_author_html(name):
    """The whole page through Python-Markdown with MkDocs' extensions (attr_list included):
    only the elements the templates write, no attribute from author text, no link but
    http(s) and relative ones, the title as written."""
    import markdown

    flow = INJECTION.get(name) or HOSTILE[name]
    md = markdown.Markdown(extensions=["toc", "tables", "admonition", "md_in_html", "attr_list", "flowdoc.publish.markdown"])
    tree = _Elements(md.convert(render_page(flow)))
    allowed = {"h1", "h2", "h3", "p", "a", "code", "strong", "em", "table", "thead", "tbody", "tr", "th", "td",
               "br", "ul", "li", "blockquote", "pre", "div", "details", "summary"}
    classes = {"flowdoc-mermaid", "flowdoc-table", "flowdoc-details", "flowdoc-details flowdoc-changes"}
    for tag, attrs in tree.found:
        assert tag in allowed, (tag, attrs)
        assert set(attrs) <= {"id", "href", "class", "open", "data-search-exclude"}, (tag, attrs)
        assert attrs.get("class", "flowdoc-mermaid") in classes, (tag, attrs)
        href = attrs.get("href", "https://")
        assert not re.match(r"\s*[a-z][a-z0-9+.-]*:", href, re.I) or href.startswith(("http://", "https://")), href
    assert " ".join(tree.h1[0].split()) == " ".join(flow.title.split())


# ---------------------------------------------------------------------- secrets


@pytest.mark.parametrize("name", list(ALL))
def test_secret_inputs_never_appear(pages, name):
    flow = ALL[name]
    md = pages[name]
    page = parse(md)
    for secret in flow.secret_inputs():
        inp = flow.inputs[secret]
        if inp.default is not None:
            assert str(inp.default) not in md
        row = next(r for r in page.table(INPUTS)["rows"] if r[0] == secret)
        assert row[2] == f"«{secret}»"
    if name in HOSTILE:
        assert SECRET_DEFAULT.format(n=name.split("-")[1]) not in md


def _flow_from(data: dict):
    flow, diags = read_flow_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "t.yaml")
    assert flow is not None, [d.message for d in diags.items]
    return flow


def test_secret_default_used_as_a_literal_is_not_printed():
    data = hostile_data(0, "Login")
    data["inputs"]["secret_in"]["default"] = "hunter2-hunter2"
    data["inputs"]["secret_in"]["example"] = "an-example"
    data["transitions"][0]["request"]["form"]["password"] = "hunter2-hunter2"
    data["transitions"][0]["request"]["headers"] = {"X-Api-Key": "hunter2-hunter2"}
    data["transitions"][0]["response"]["headers"] = {"X-Echo": "hunter2-hunter2"}
    data["troubleshooting"][0]["cause"] = "the key hunter2-hunter2 was rotated"
    flow = _flow_from(data)
    md = render_page(flow)
    assert "hunter2" not in md
    assert "«secret_in»" in md
    for view in ("sequence", "state", "flowchart"):
        for fmt in ("mermaid", "dot"):
            assert "hunter2" not in render_diagram(flow, view, fmt)


def test_examples_shown_instead_of_defaults():
    data = hostile_data(0, "x")
    data["inputs"]["both"] = {"default": "the-default", "example": "the-example"}
    data["inputs"]["only_default"] = {"default": 42}
    page = parse(render_page(_flow_from(data)))
    rows = {r[0]: r[2] for r in page.table(INPUTS)["rows"]}
    assert rows["both"] == "the-example"
    assert rows["only_default"] == "42"
    assert "the-default" not in "".join(page.text)


# -------------------------------------------------------- deprecation, changelog


def _deprecated():
    data = hostile_data(1, "Old flow")
    data["status"] = "deprecated"
    data["deprecation"] = {
        "replaced_by": "new-flow",
        "migration": "https://docs.example.com/migrate_(v2)",
        "sunset": "2027-01-31",
        "reason": "Tokens in URLs leak.",
    }
    return _flow_from(data)


def test_deprecation_banner_with_migration_link():
    flow = _deprecated()
    page = parse(render_page(flow))
    banner = page.quotes[0].strip()
    assert banner.startswith("Deprecated.")
    assert "new-flow" in banner and "2027-01-31" in banner and "Tokens in URLs leak." in banner
    assert ("https://docs.example.com/migrate_(v2)", "migration guide") in page.links
    assert "status: deprecated" in "".join(page.text)


def test_deprecation_migration_as_text_keeps_urls_as_links():
    data = hostile_data(1, "Old flow")
    data["status"] = "deprecated"
    data["deprecation"] = {"replaced_by": "new-flow", "migration": "Move to v2. See https://x.example/v2/ now."}
    page = parse(render_page(_flow_from(data)))
    assert "Move to v2. See https://x.example/v2/ now." in page.quotes[0]
    assert ("https://x.example/v2/", "https://x.example/v2/") in page.links


def test_current_flows_have_no_banner(pages):
    for name, flow in FLOWS.items():
        if flow.deprecation is None:
            assert "Deprecated." not in pages[name]


def test_changelog_argument_replaces_the_flows_notes():
    flow = FLOWS["client-credentials.yaml"]
    log = [
        {"version": "1.2.0", "date": dt.date(2026, 12, 1), "notes": ["Shorter tokens."], "since": "1.0.0",
         "changes": [{"id": "ttl-shortened", "level": "breaking", "message": "access_token TTL 10 min → 5 min"},
                     {"id": "doc-only", "level": "info", "message": "Wording"}]},
        {"version": "1.1.0", "date": None, "notes": [], "changes": []},
    ]
    md = render_page(flow, changelog=log)
    page = parse(md)
    h3 = [t for h, t in page.headings if h == "h3"]
    assert "1.2.0 — 2026-12-01" in h3 and "1.1.0" in h3
    text = "".join(page.text)
    # grouped by level under the release that made them, counted from the version before, as
    # on the changelog page
    assert "Changes since 1.0.0: 1 breaking, 1 do not break" in text
    assert "Breaking: a client built from the older page breaks (1)" in text
    assert "access_token TTL 10 min → 5 min (ttl-shortened)" in text
    assert text.index("Breaking:") < text.index("access_token TTL") < text.index("Does not break (1)")
    assert "Wording (doc-only)" in text
    assert "Document invalid_scope" not in text  # the flow's own notes are replaced
    assert "Document invalid_scope" in render_page(flow)


def test_context_is_optional_and_used_when_given():
    flow = FLOWS["client-credentials.yaml"]
    plain = render_page(flow)
    assert render_page(flow, context={}) == plain
    assert render_page(flow, context={"unrelated": object()}) == plain
    md = render_page(flow, context={"versions": ["1.0.0", {"version": "1.1.0", "url": "../1.1/"}],
                                    "latest_url": "../latest/"})
    page = parse(md)
    assert ("../1.1/", "1.1.0") in page.links
    assert ("../latest/", "latest version") in page.links


# -------------------------------------------------------------------- templates


def test_user_templates_override_a_section(tmp_path):
    (tmp_path / "sections").mkdir()
    (tmp_path / "sections" / "summary.md.j2").write_text("Custom summary for {{ page.id|code }}.\n")
    md = render_page(FLOWS["client-credentials.yaml"], templates_dir=tmp_path)
    assert "Custom summary for `client-credentials`." in md
    assert "A backend service authenticates" not in md
    assert "## Steps" in md


def test_user_templates_override_a_block_and_extend_the_builtin_page(tmp_path):
    (tmp_path / "page.md.j2").write_text(
        '{% extends "flowdoc/page.md.j2" %}\n'
        "{% block summary %}{{ super() }}\n\nOwned by the identity team.\n{% endblock %}\n"
        "{% block decisions %}{% endblock %}\n"
    )
    md = render_page(FLOWS["client-credentials.yaml"], templates_dir=str(tmp_path))
    assert "A backend service authenticates" in md
    assert "Owned by the identity team." in md
    assert "## Decisions" not in md and "## Steps" in md


def test_user_page_template_replaces_everything(tmp_path):
    (tmp_path / "page.md.j2").write_text("# {{ page.title|md }}\n\n{{ site.get('extra', 'none') }}\n")
    md = render_page(FLOWS["client-credentials.yaml"], templates_dir=tmp_path, context={"extra": "yes"})
    assert md == "# Service-to-service calls with the client credentials grant\n\nyes\n"


def test_an_edited_template_is_read_again(tmp_path):
    """A long-running process (flowdoc serve) renders with the templates as they are now: a
    section edited in place (even to the same size), added, or removed."""
    import os

    flow = FLOWS["client-credentials.yaml"]
    section = tmp_path / "sections" / "summary.md.j2"
    section.parent.mkdir()
    section.write_text("Summary AAAA.\n")
    assert "Summary AAAA." in render_page(flow, templates_dir=tmp_path)
    section.write_text("Summary BBBB.\n")
    os.utime(section, ns=(section.stat().st_atime_ns, section.stat().st_mtime_ns + 1_000_000_000))
    assert "Summary BBBB." in render_page(flow, templates_dir=tmp_path)
    (tmp_path / "sections" / "steps.md.j2").write_text("No steps here.\n")
    md = render_page(flow, templates_dir=tmp_path)
    assert "No steps here." in md and "## Steps" not in md
    (tmp_path / "sections" / "steps.md.j2").unlink()
    assert "## Steps" in render_page(flow, templates_dir=tmp_path)


def test_missing_templates_dir_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        render_page(FLOWS["client-credentials.yaml"], templates_dir=tmp_path / "nope")


def test_page_is_deterministic(pages):
    for name in list(FLOWS)[:2]:
        assert render_page(ALL[name]) == pages[name]


# ------------------------------------------------------------------ public API


def test_public_api_contract():
    import inspect

    import flowdoc.render as R

    sig = inspect.signature(R.render_diagram)
    assert list(sig.parameters) == ["flow", "view", "fmt"] and sig.parameters["fmt"].default == "mermaid"
    sig = inspect.signature(R.render_page)
    assert list(sig.parameters) == ["flow", "templates_dir", "changelog", "context"]
    assert all(sig.parameters[p].kind is inspect.Parameter.KEYWORD_ONLY for p in ("templates_dir", "changelog", "context"))
    assert R.VIEWS == ("sequence", "state", "flowchart") and R.FORMATS == ("mermaid", "dot", "svg")


def test_render_diagram_rejects_unknown_view_and_format():
    from flowdoc.render import RenderError

    flow = FLOWS["client-credentials.yaml"]
    with pytest.raises(RenderError, match="unknown view"):
        render_diagram(flow, "timeline")
    with pytest.raises(RenderError, match="unknown format"):
        render_diagram(flow, "state", "png")


def test_wait_reads_as_words():
    from flowdoc import load_flow
    from flowdoc.render.diagram import wait_text

    flow = load_flow("flows/silent-refresh-rotation.yaml")
    assert wait_text(flow, 90) == "Wait 1 min 30 s"
    assert wait_text(flow, "${inputs.access_token_ttl}") == "Wait access_token_ttl (1 h by default)"
    assert wait_text(flow, "${inputs.client_secret}") == "Wait «client_secret» s"  # a secret stays hidden


# ----------------------------------------------------------- references in text


def test_escaped_reference_is_a_literal_and_secrets_are_hidden():
    """``$${`` is a literal ``${`` (the renderer once had its own regex, blind to it)."""
    data = hostile_data(0, "x")
    data["states"][1]["title"] = "mid"
    flow_text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    flow, _ = read_flow_text(flow_text, "t.yaml")
    assert flow is not None
    assert D.redact(flow, "a $${inputs.secret_in} b ${inputs.secret_in}") == "a $${inputs.secret_in} b «secret_in»"
    assert D.redact(flow, "${inputs.plain}/${inputs.secret_in}") == "${inputs.plain}/«secret_in»"
    # not a valid string (the flow would not validate): still no secret shown
    assert D.redact(flow, "${inputs.secret_in} ${") == "«secret_in» ${"
    assert D.is_literal("$${x}") and not D.is_literal("${inputs.plain}")


def test_thirty_thousand_references_render(tmp_path):
    """30,000 ``${`` in one value: the reference walker of the expression language reads them
    once (a hang guard only; speed is measured by benchmarks/bench_linear.py)."""
    import time

    data = hostile_data(1, "x")
    data["transitions"][0]["request"]["query"] = {"q": "$${x}" * 15_000 + "${inputs.plain}" * 15_000}
    data["transitions"][0]["response"]["redirect"] = {"to": "${inputs.secret_in}" * 15_000 + "$${y}" * 15_000}
    flow, diags = read_flow_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "t.yaml")
    assert flow is not None, [d.message for d in diags.items][:3]
    t0 = time.monotonic()
    page = render_page(flow)
    assert time.monotonic() - t0 < 60  # hang guard
    assert "«secret_in»" * 100 in page and SECRET_DEFAULT.format(n=1) not in page


# --------------------------------------------------- link syntax in links: both builds


def test_link_syntax_in_links_builds_with_flowdoc_and_the_plugin(tmp_path):
    """``links.authorization_guide: "![x](y)"`` made both builds die with
    ``AssertionError: unknown status keyword 'x' in marked section`` (Python-Markdown's HTML
    parser reading the ``<![x](y)>`` destination the page used to write)."""
    import os
    import shutil
    import subprocess

    from flowdoc.publish import BuildSettings, build_site

    from tests.flowkit import base, to_yaml

    data = base()
    data["links"] = {"authorization_guide": "![x](y)", "related": {"<![CDATA[ x ]]>": "<![x](y)>"}}
    flows = tmp_path / "project" / "flows"
    flows.mkdir(parents=True)
    (flows / "mini.yaml").write_text(to_yaml(data), encoding="utf-8")
    out = tmp_path / "site"
    build_site(BuildSettings(flows_dir=flows, out_dir=out))
    html = (out / "mini" / "latest" / "index.html").read_text(encoding="utf-8")
    assert '<a href="!%5Bx%5D(y)">Authorization Guide</a>' in html
    assert "&lt;![CDATA[ x ]]&gt;</a>" in html

    project = tmp_path / "project"
    (project / "docs").mkdir()
    (project / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
    (project / "mkdocs.yml").write_text(
        "site_name: t\ntheme: {name: mkdocs, highlightjs: false}\nplugins: [{flowdoc: {flows_dir: flows}}]\n",
        encoding="utf-8",
    )
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build"], cwd=project, capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "AssertionError" not in r.stderr
    page = (project / "site" / "flows" / "mini" / "latest" / "index.html").read_text(encoding="utf-8")
    assert '<a href="!%5Bx%5D(y)">Authorization Guide</a>' in page
    shutil.rmtree(project / "site")


# ------------------------------------------------------------- what a reader reads
#
# No template internals on a page: an input is its example (or «NAME», linked to the Inputs
# table), a step's value reads "the login URL from step 1", a required flow is a link.


def _mkdocs_html(md_text: str) -> str:
    import markdown

    return markdown.Markdown(
        extensions=["toc", "tables", "admonition", "md_in_html", "attr_list", "flowdoc.publish.markdown"]
    ).convert(md_text)


class _Visible(HTMLParser):
    """The text a reader sees: without the diagrams' sources (drawn in the browser)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._pre = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag == "pre" and "flowdoc-mermaid" in (dict(attrs).get("class") or ""):
            self._pre += 1

    def handle_endtag(self, tag):
        if tag == "pre" and self._pre:
            self._pre -= 1

    def handle_data(self, data):
        if not self._pre:
            self.out.append(data)


@pytest.mark.parametrize("name", list(FLOWS))
def test_example_pages_show_no_template_internals(pages, name):
    text = "".join(_Visible(_mkdocs_html(pages[name])).out)
    assert "${" not in text and "\\\\" not in text and "\\&" not in text, name
    # and the diagrams' labels: every reference read as words too
    for view in ("sequence", "state", "flowchart"):
        assert "${" not in render_diagram(FLOWS[name], view), (name, view)


def test_inputs_show_their_example_or_a_placeholder_linked_to_the_inputs_table():
    data = base()
    data["inputs"]["issuer"]["example"] = "https://login.example.com"
    data["inputs"]["tenant"] = {"description": "Tenant"}
    data["actors"]["api"] = {"name": "API", "kind": "resource-server", "base_url": "${inputs.tenant}/api/${inputs.client_secret}"}
    data["transitions"][0]["response"]["redirect"] = {"to": "${inputs.tenant}/cb", "query": {"code": None}}
    data["transitions"][0]["response"]["status"] = 302
    flow, diags = read_flow_text(to_yaml(data), "t.yaml")
    assert flow is not None, [d.message for d in diags.items]
    md = render_page(flow)
    page = parse(md)
    rows = {r[0]: r[2] for r in page.table(PARTICIPANTS)["rows"]}
    assert rows["Auth"] == "https://login.example.com"  # the example, as code
    assert rows["API"] == "«tenant»/api/«client_secret»"  # placeholders, the secret never its value
    assert ("#inputs", "«tenant»") in page.links and ("#inputs", "«client_secret»") in page.links
    steps = page.table(STEPS)["rows"]
    assert "Location: «tenant»/cb?code" in steps[0][5]
    assert "[«tenant»](#inputs)/cb?code" in md
    assert "${" not in "".join(page.text)


def test_step_references_read_as_words():
    data = base()
    data["transitions"][0]["response"]["capture"]["login_url"] = "location"
    data["states"].insert(1, {"id": "mid"})
    data["transitions"][0]["to"] = "mid"
    data["transitions"].append({
        "id": "open_login", "from": "mid", "to": "done", "by": "app -> auth", "title": "Open the login page",
        "request": {"method": "GET", "path": "/login", "url": "${steps.get_token.login_url}"},
        "response": {"status": 200, "fields": ["form"]},
    })
    flow, diags = read_flow_text(to_yaml(data), "t.yaml")
    assert flow is not None, [d.message for d in diags.items]
    page = parse(render_page(flow))
    row = page.table(STEPS)["rows"][1]
    assert row[3] == "/login\nat the login URL from step 1"
    assert L.readable(flow, "${steps.get_token.access_token}") == "the access token from step 1"


def test_required_flow_is_a_link_on_a_site_and_its_values_are_words():
    flow = FLOWS["silent-refresh-rotation.yaml"]
    alone = parse(render_page(flow))
    assert not any("authorization-code-pkce" in (h or "") for h, _ in alone.links)
    md = render_page(flow, context={"flow_links": {"authorization-code-pkce": "../authorization-code-pkce/latest.md"}})
    page = parse(md)
    req = flow.requires["signin"]
    assert ("../authorization-code-pkce/latest.md", req.title) in page.links
    text = "".join(page.text)
    assert "which provides the access token and refresh token used here" in text
    assert "${" not in text


def test_page_is_short_to_read():
    """What happens next is said near the top; the decisions flowchart and the guard table fold
    away; troubleshooting repeats no failure row."""
    flow = FLOWS["authorization-code-pkce.yaml"]
    md = render_page(flow)
    page = parse(md)
    assert page.quotes[0].strip().startswith("What happens next:")
    assert md.index("**What happens next:**") < md.index("## Participants")
    decisions = md.split("## Decisions", 1)[1].split("\n## ", 1)[0]
    assert decisions.lstrip().startswith('<details class="flowdoc-details"') and "```mermaid\nflowchart" in decisions
    guards = md.split("### Guards and triggers", 1)[1].split("\n## ", 1)[0]
    assert guards.lstrip().startswith("<details")
    trouble = page.table(TROUBLE)["rows"]
    failures = page.table(FAILURES)["rows"]
    assert len(trouble) == len(flow.troubleshooting) < len(failures)
    assert {r[3] for r in trouble}.isdisjoint({r[4] for r in failures})


def test_tidy_collapses_blank_lines_outside_code_fences_only():
    from flowdoc.render.filters import tidy

    text = "\n\n# T\n\n\n \t \nx\n```\n\n\n```\n\n\n    ```\n\n\ny\n~~~~\n\n ~~~\n~~~~~ `\n\n\n"
    # white space only counts as blank; inside a fence blank lines stay; four spaces open no
    # fence; a fence closes only with a run at least as long, then spaces, backticks or tildes
    assert tidy(text) == "# T\n\nx\n```\n\n\n```\n\n    ```\n\ny\n~~~~\n\n ~~~\n~~~~~ `\n"
    # an unclosed fence keeps its lines, but not the blank ones at the end of the page
    assert tidy("a\n```mermaid\nb\n\n\n  \n") == "a\n```mermaid\nb\n"
    assert tidy("\n \n") == "\n"


def test_tidy_of_a_hostile_page_is_quick():
    """Hang guard: the blank lines at the end are dropped one look at each."""
    import time

    from flowdoc.render.filters import tidy

    start = time.monotonic()
    assert tidy("```\n" + "\n" * 300_000) == "```\n"
    assert tidy("`" * 300_000 + "\nx\n" + "`" * 299_999 + "\n\n\n") == "`" * 300_000 + "\nx\n" + "`" * 299_999 + "\n"
    assert time.monotonic() - start < 30


def test_values_made_once_per_page_are_not_kept_across_pages():
    """The step order, secret values and labels are made once per page (render/once.py), never
    reused for a later page: a flow changed between two pages shows its change."""
    from flowdoc.render.page import build_page_data

    flow = flowdoc.load_flow(ROOT / "flows" / "client-credentials.yaml")
    first = build_page_data(flow)
    step = flow.happy_path()[0]
    assert first.steps[0].id == step.id and first.steps[0].response.startswith("200")
    step.response.status = 203
    again = build_page_data(flow)
    assert again.steps[0].id == step.id and again.steps[0].response.startswith("203")
    assert "203" in again.sequence and "203" not in first.sequence
