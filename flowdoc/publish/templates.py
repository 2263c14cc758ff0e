"""Templates of the site pages flowdoc adds around the flow pages, and the site's assets.

The flow page itself comes from :func:`flowdoc.render.render_page`. flowdoc adds:

- ``site-index.md.j2``: the index of flows (title, status, latest version, last updated);
- ``site-header.md.j2``: the version selector and the banner on older or deprecated versions,
  put under the page's title;
- ``site-changelog.md.j2``: the changelog page of a flow.

A file of the same name in the templates folder (``--templates`` / ``templates``) replaces
the built-in one. The templates write Markdown; links between pages are relative ``.md``
links, which MkDocs turns into URLs and checks (``--strict``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import jinja2

from .. import escape
from ..render.sandbox import BuiltinLoader, TemplateSandbox, render_template
from .assets import FLOWDOC_CSS, FLOWDOC_JS  # noqa: F401 - their home before assets.py

__all__ = [
    "TEMPLATE_NAMES",
    "SiteTemplates",
    "FLOWDOC_CSS",
    "FLOWDOC_JS",
    "overlay_templates",
    "templates_digest",
]

INDEX = """\
# {{ title | heading }}

{% if flows -%}
| Flow | Status | Latest version | Last updated |{% if versions %} Versions |{% endif %}{% if proofs %} Proof |{% endif %}
| --- | --- | --- | --- |{% if versions %} --- |{% endif %}{% if proofs %} --- |{% endif %}
{% for f in flows -%}
| {{ f.title | link(f.link) }} | <span class="flowdoc-status flowdoc-status-{{ f.status | attr }}">{{ f.status | html }}</span> | {{ f.version | cell or "—" }} | {{ f.updated | cell or "—" }} |{% if versions %} {% for v in f.versions %}{{ v.label | link(v.link) }}{{ " · " }}{% endfor %}{{ "changelog" | link(f.changelog) }} |{% endif %}{% if proofs %} {{ f.proof }} |{% endif %}
{% endfor %}
{%- else -%}
No flows yet.
{%- endif %}
"""

HEADER = """\
{% if choices -%}
<nav class="flowdoc-versions" aria-label="Versions of this flow" markdown="1">
Version:{% for v in choices %} {% if v.current %}<strong class="flowdoc-current">{{ v.label | md }}</strong>{% else %}{{ v.label | link(v.link) }}{% endif %}{% if not loop.last %} ·{% endif %}{% endfor %}{% if changelog %} · {{ "Changelog" | link(changelog) }}{% endif %}
</nav>
{% endif %}
{% if banner %}
<div class="flowdoc-banner flowdoc-banner-{{ banner.kind | attr }}" role="note" markdown="1">
{% if banner.kind == "deprecated" -%}
**Deprecated.** Version {{ banner.version | md }} of this flow is deprecated{% if banner.sunset %} and stops working on {{ banner.sunset | md }}{% endif %}.
{%- if banner.replaced_by and banner.replaced_by.link %} Use {{ banner.replaced_by.title | link(banner.replaced_by.link) }} instead.
{%- elif banner.replaced_by %} Use the flow {{ banner.replaced_by.id | code }} instead.{% endif %}
{%- if banner.reason %} {{ banner.reason | md }}{% endif %}
{%- else -%}
**Older version.** You are reading version {{ banner.version | md }} of this flow; the latest is {{ banner.latest_version | link(banner.latest_link) }}.
{%- endif %}

**Migration:** {% if banner.migration_url %}{{ "migration guide" | link(banner.migration_url) }}{% elif banner.migration %}{{ banner.migration | md }}{% endif %}{% if (banner.migration or banner.migration_url) and banner.changelog %} · {% endif %}{% if banner.changelog %}{{ "what changed" | link(banner.changelog) }}{% endif %}
</div>
{% endif %}
"""

CHANGELOG = """\
# Changelog: {{ flow.title | heading }}

{% if choices -%}
Versions:{% for v in choices %} {{ v.label | link(v.link) }}{% if not loop.last %} ·{% endif %}{% endfor %}
{%- endif %}

{% for e in entries -%}
## {{ e.version | heading }}{% if e.date %} — {{ e.date | heading }}{% endif %}

{% for note in e.notes -%}
- {{ note | md }}
{% endfor %}
{% if e.changes and e.get("since") -%}
Changes since {{ e.since | md }}:

{% endif -%}
{% for level, title in levels -%}
{% set changes = e.changes | selectattr("level", "equalto", level) | list -%}
{% if changes %}
**{{ title | md }}** ({{ changes | length }})

{% for c in changes -%}
- <span class="flowdoc-level flowdoc-level-{{ level | attr }}">{{ level | html }}</span> {{ c.message | md }} ({{ c.id | code }})
{% endfor %}
{% endif -%}
{% endfor -%}
{% if not e.notes and not e.changes %}
No changes recorded.
{% endif %}

{% else -%}
No changes recorded yet.
{% endfor %}
"""

TEMPLATE_NAMES = {"site-index.md.j2": INDEX, "site-header.md.j2": HEADER, "site-changelog.md.j2": CHANGELOG}


#: Change levels on changelog pages, most severe first.
LEVELS = [("breaking", "Breaking: a client built from the older page breaks"),
          ("warning", "May break"),
          ("info", "Does not break")]


class SiteTemplates:
    """The three site templates, each from the templates folder when it has one of that name.

    They run in flowdoc's template sandbox (:mod:`flowdoc.render.sandbox`); :meth:`render`
    raises :class:`~flowdoc.render.RenderError` (template file and line) when one fails."""

    def __init__(self, templates_dir: str | Path | None = None):
        self.templates_dir = Path(templates_dir) if templates_dir else None
        loaders: list[jinja2.BaseLoader] = []
        if self.templates_dir is not None:
            loaders.append(jinja2.FileSystemLoader(str(self.templates_dir)))
        loaders.append(BuiltinLoader(TEMPLATE_NAMES))
        self.env = TemplateSandbox(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=False,
            keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined,
        )
        self.env.filters.update(
            md=lambda v: "" if v is None else escape.md_text(str(v)),
            heading=escape.md_heading,
            cell=escape.md_cell,
            code=escape.md_code,
            link=escape.md_link,
            url=escape.md_url,
            html=escape.html_text,
            attr=escape.html_attr,
        )
        self.env.globals["levels"] = LEVELS

    def render(self, name: str, **context: object) -> str:
        return render_template(self.env, name, **context)


#: Sections of the renderer's page replaced on site pages (the header under the title shows
#: the deprecation banner, with links into the site). A user's own file of that name wins.
SITE_SECTIONS = {
    "sections/deprecation.md.j2": "{#- flowdoc site: the banner under the title shows the deprecation -#}\n",
}


def overlay_templates(user_dir: str | Path | None, target: str | Path) -> Path:
    """The templates folder site pages are rendered with: the user's templates (copied),
    plus :data:`SITE_SECTIONS` where the user has no file of that name."""
    target = Path(target)
    want: dict[str, bytes] = {}
    if user_dir:
        root = Path(user_dir)
        for f in sorted(p for p in root.rglob("*") if p.is_file()):
            want[f.relative_to(root).as_posix()] = f.read_bytes()
    for name, text in SITE_SECTIONS.items():
        want.setdefault(name, text.encode())
    if target.is_dir():
        for f in sorted((p for p in target.rglob("*") if p.is_file()), reverse=True):
            if f.relative_to(target).as_posix() not in want:
                f.unlink()
    for name, data in want.items():
        dest = target / name
        if not dest.is_file() or dest.read_bytes() != data:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
    return target


def templates_digest(templates_dir: str | Path | None) -> str:
    """A hash of every file in the templates folder (names and bytes)."""
    h = hashlib.sha256()
    if templates_dir:
        root = Path(templates_dir)
        for f in sorted(p for p in root.rglob("*") if p.is_file()):
            h.update(f.relative_to(root).as_posix().encode() + b"\0")
            h.update(f.read_bytes() + b"\0")
    return h.hexdigest()
