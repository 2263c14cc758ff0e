"""Templates are hostile input: they run in a sandbox, and a template that tries to run code
gets a clear error (exit 2, the template file and line), never a traceback. Flows' own strings
are data, never templates."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flowdoc  # noqa: E402
from flowdoc.publish import BuildSettings, PublishError, build_site, load_site  # noqa: E402
from flowdoc.render import RenderError, render_page  # noqa: E402
from tests.helpers import run
from tests.flowkit import base, to_yaml  # noqa: E402

CC = ROOT / "flows" / "client-credentials.yaml"
FLOW = flowdoc.load_flow(CC)


def exploit(marker: Path) -> str:
    """The issue's template: runs a shell command through cycler's globals."""
    return f'line one\n{{{{ cycler.__init__.__globals__.os.popen("id -u > {marker}").read() }}}}\n'



def test_page_template_cannot_run_a_command(tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "sections").mkdir()
    (tmp_path / "sections" / "summary.md.j2").write_text(exploit(marker))
    with pytest.raises(RenderError) as err:
        render_page(FLOW, templates_dir=tmp_path)
    msg = str(err.value)
    assert f"{(tmp_path / 'sections' / 'summary.md.j2').resolve()}:2: template error" in msg
    assert "sandbox" in msg and "__init__" in msg
    assert not marker.exists()


def test_render_cli_reports_the_template_and_line_exit_2(tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "page.md.j2").write_text('{% extends "flowdoc/page.md.j2" %}\n\n{% block summary %}' + exploit(marker) + "{% endblock %}\n")
    r = run("render", CC, "--format", "markdown", "--templates", tmp_path)
    assert r.exit_code == 2
    assert "page.md.j2:4: template error: not allowed in a template" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert not marker.exists()


@pytest.mark.parametrize(
    "source, words",
    [
        ("{{ lipsum.__globals__['os'].system('true') }}", "__globals__"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "__class__"),
        ("{{ self._TemplateReference__context }}", "_TemplateReference__context"),
        ("{{ flow.parse_file('/etc/passwd') }}", "parse_file"),
        ("{{ flow.model_validate_json('{}') }}", "model_validate_json"),
        ("{{ page.steps.append(1) }}", "append"),
        ("{{ flow.inputs.clear() }}", "clear"),
        ("{{ 'x' * 100000000 }}", "longer than"),
        ("{{ 9 ** 9999999 }}", "bits"),
        ("{{ '%999999999s' % 'x' }}", "width"),
        ("{{ undefined_name }}", "undefined"),
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
        ("{% include 'nope.j2' %}", "nope.j2"),
    ],
)
def test_sandbox_refuses_with_a_clear_error(tmp_path, source, words):
    (tmp_path / "page.md.j2").write_text("# t\n\n" + source + "\n")
    with pytest.raises(RenderError) as err:
        render_page(FLOW, templates_dir=tmp_path)
    msg = str(err.value)
    assert f"{(tmp_path / 'page.md.j2').resolve()}:3: template error" in msg, msg
    assert words in msg, msg


def test_syntax_error_names_the_file_and_line(tmp_path):
    (tmp_path / "page.md.j2").write_text("a\n{% if %}\n")
    with pytest.raises(RenderError, match=r"page\.md\.j2:2: template error: "):
        render_page(FLOW, templates_dir=tmp_path)


def test_templates_still_read_the_flow_and_its_helpers(tmp_path):
    (tmp_path / "page.md.j2").write_text(
        "{{ flow.title|md }} / {{ flow.happy_path()|length }} steps / {{ page.steps|map(attribute='id')|join(',') }}"
        " / {% set ns = namespace(n=0) %}{% for s in flow.states %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}\n"
    )
    md = render_page(FLOW, templates_dir=tmp_path)
    assert md.startswith("Service-to-service calls with the client credentials grant / 2 steps / request_token,")
    assert md.rstrip().endswith(f"/ {len(FLOW.states)}")


# ------------------------------------------------------- flows' strings are data


TEMPLATE_TEXT = "{{ 7*7 }} {% raw %}{{ x }}{% endraw %} {# comment #} {%- if true %}"


def test_flow_strings_are_never_evaluated_as_templates():
    data = base()
    data["title"] = TEMPLATE_TEXT
    data["summary"] = "{{ cycler.__init__.__globals__.os.popen('id').read() }}"
    data["states"][1]["handoff"] = "{% raw %}"
    flow, diags = flowdoc.load.read_flow_text(to_yaml(data), "t.yaml")
    assert flow is not None, diags.items
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").render(render_page(flow))
    import html as _html

    text = _html.unescape(html)
    assert TEMPLATE_TEXT in text and "49" not in text.split("\n")[0]
    assert "{{ cycler.__init__.__globals__.os.popen('id').read() }}" in text
    assert "{% raw %}" in text


# ----------------------------------------------------------------- site templates


def _flows(tmp_path: Path) -> Path:
    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy(CC, flows / CC.name)
    return flows


def test_site_template_cannot_run_a_command(tmp_path):
    marker = tmp_path / "ran"
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    (tpl / "site-index.md.j2").write_text(exploit(marker))
    with pytest.raises(PublishError) as err:
        load_site(_flows(tmp_path), templates_dir=tpl).index_page()
    assert f"{tpl / 'site-index.md.j2'}:2: template error: not allowed" in err.value.message
    assert not marker.exists()


def test_build_with_a_hostile_template_exits_2_and_keeps_the_site(tmp_path, monkeypatch):
    flows = _flows(tmp_path)
    out = tmp_path / "out"
    build_site(BuildSettings(flows_dir=flows, out_dir=out))
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    marker = tmp_path / "ran"
    tpl = tmp_path / "tpl" / "sections"
    tpl.mkdir(parents=True)
    (tpl / "steps.md.j2").write_text(exploit(marker))
    monkeypatch.chdir(tmp_path)
    r = run("build", "--flows", flows, "--out", out, "--templates", tmp_path / "tpl")
    assert r.exit_code == 2, r.output
    assert f"{tpl / 'steps.md.j2'}:2: template error: not allowed in a template" in r.stderr
    assert "client-credentials.yaml" in r.stderr and "Traceback" not in r.stderr
    assert not marker.exists()
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before
    # the builtin site templates' own names show in their errors too
    (tmp_path / "tpl" / "site-header.md.j2").write_text("{{ nope }}\n")
    (tpl / "steps.md.j2").unlink()
    r = run("build", "--flows", flows, "--out", out, "--templates", tmp_path / "tpl")
    assert r.exit_code == 2 and "site-header.md.j2:1: template error: undefined value" in r.stderr, (r.stderr, list((tmp_path / "tpl").rglob("*")))



def test_the_sandbox_answers_the_same_for_each_object_after_it_has_seen_the_name():
    """is_safe_attribute keeps its answer per (type, name): an attribute allowed on one type
    stays refused on another (a dict's keys, a list's append; mro on a class, not on a dict),
    however often and in whatever order templates ask."""
    from jinja2.exceptions import SecurityError

    from flowdoc.render.sandbox import TemplateSandbox

    env = TemplateSandbox()

    class Box:
        append = "a box's append"
        mro = "a box's mro"

    for _ in range(3):
        assert env.from_string("{{ b.append }} {{ b.mro }}").render(b=Box()) == "a box's append a box's mro"
        with pytest.raises(SecurityError):
            env.from_string("{{ x.append(1) }}").render(x=[])
        assert env.from_string("{{ d.keys()|list }}").render(d={"k": 1}) == "['k']"
        with pytest.raises(SecurityError):
            env.from_string("{{ d.clear() }}").render(d={"k": 1})
        with pytest.raises(SecurityError):
            env.from_string("{{ c.mro() }}").render(c=Box)
        with pytest.raises(SecurityError):
            env.from_string("{{ f.model_validate_json('{}') }}").render(f=FLOW)
        assert env.from_string("{{ f.id }}").render(f=FLOW) == FLOW.id

    class Liar:  # an object that says it is a list is checked as one, every time
        append = "a liar's append"

        @property
        def __class__(self):  # noqa: PLW3201
            return list

    for _ in range(3):
        with pytest.raises(SecurityError):
            env.from_string("{{ x.append(1) }}").render(x=Liar())


def test_the_lookup_shortcuts_answer_as_jinja_does():
    """TemplateSandbox.getattr reads a plain dict's key and a page-data field directly: the answers
    (and the refusals) are Jinja's: a dict's own attributes still come first and stay immutable,
    a missing key is undefined, a data-class field holding a function is still checked, and a
    data class with a field templates may not read cannot be registered."""
    from dataclasses import dataclass
    from typing import Any

    import jinja2
    from jinja2.exceptions import SecurityError

    from flowdoc.render.sandbox import TemplateSandbox

    @dataclass
    class Row:
        title: str
        call: Any = None

    env = TemplateSandbox(undefined=jinja2.StrictUndefined)
    env.add_data_classes(Row)
    d = {"name": "n", "items": "a key named items", "update": 1}
    assert env.from_string("{{ d.name }} {{ d.items()|list|length }} {{ d['items'] }}").render(d=d) == "n 3 a key named items"
    with pytest.raises(SecurityError):
        env.from_string("{{ d.update({'x': 1}) }}").render(d=d)
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ d.missing }}").render(d=d)
    assert env.from_string("{{ r.title }}|{{ r.title.upper() }}").render(r=Row("t")) == "t|T"
    with pytest.raises(SecurityError):  # str.format is wrapped by the sandbox, shortcut or not
        env.from_string("{{ r.call(r) }}").render(r=Row("t", "{0.__class__.__mro__}".format))
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ r.absent }}").render(r=Row("t"))

    @dataclass
    class Hidden:
        _secret: str

    with pytest.raises(ValueError, match="_secret"):
        env.add_data_classes(Hidden)
