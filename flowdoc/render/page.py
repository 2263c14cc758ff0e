"""The Markdown page of a flow, from Jinja2 templates.

The default templates are the repository's ``templates/`` folder, shipped inside the
package as ``flowdoc/render/templates`` (a link to it in the source tree, a copy in a
wheel). A user's templates folder comes first in the search path, so it can replace
any file (``page.md.j2`` or one section ``sections/NAME.md.j2``), or extend the
built-in page and override single blocks::

    {% extends "flowdoc/page.md.j2" %}
    {% block summary %}{{ super() }}

    Owned by the identity team.{% endblock %}

Templates get ``flow`` (the model), ``page`` (the data below, author text unescaped),
``site`` (the ``context`` given to :func:`render_page`; templates must not require any
key of it) and the escaping filters of :mod:`flowdoc.escape`: ``md`` (inline text),
``heading`` (a heading's text), ``cell`` (table cell), ``code``/``code_cell`` (code spans),
``code_cells`` (a list as code cells joined by commas),
``link`` (``text|link(url)``: a link, or only the text when the URL is not http(s) or
relative), ``url`` (link destination), ``html``/``attr`` and ``duration``.

Templates run in a sandbox (:mod:`.sandbox`); a template that fails or tries what the
sandbox refuses raises :class:`~flowdoc.render.RenderError` naming its file and line.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from .. import escape
from ..model.flow import Flow
from . import diagram as D
from . import filters as F
from . import labels as L
from . import mermaid as M
from .once import one_page
from .sandbox import TemplateSandbox, render_template

PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"
REPO_TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
PAGE_TEMPLATE = "page.md.j2"


def default_templates_dir() -> Path:
    """The built-in templates: inside the package, else the source tree's templates/."""
    for cand in (Path(__file__).parent / "templates", REPO_TEMPLATES):
        if (cand / PAGE_TEMPLATE).is_file():
            return cand
    raise FileNotFoundError(
        f"flowdoc's built-in templates are missing (looked in {PACKAGE_TEMPLATES} and {REPO_TEMPLATES})"
    )


# ------------------------------------------------------------------ page data


@dataclass
class Step:
    n: int
    id: str
    title: str
    description: str | None
    sender: str
    receiver: str
    route: str  # "Browser → Authorization Server"
    states: str  # "Signed out → Authorization request sent"
    method: str | None
    endpoint: str | None
    url: str | None
    params: list[str]
    auth: str | None
    response: str | None
    action: str | None
    internal: bool
    parallel: str | None
    wait: str | None
    discovered: str | None = None  # the endpoint's name in the server's metadata (token_endpoint ...)
    poll: str | None = None  # a polled step: how often, until when, and its intermediate answers


@dataclass
class GuardRow:
    transition: str
    title: str
    states: str
    guard: str | None
    expr: str | None
    trigger: str | None


@dataclass
class FailureRow:
    step: str
    step_title: str
    id: str
    name: str
    status: str
    error: str | None
    outcome: str
    cause: str
    remedy: str
    to: str
    retry: bool


@dataclass
class TroubleRow:
    symptom: str
    code: bool  # the symptom is an error code
    status: str
    cause: str
    remedy: str
    source: str  # "failure" | "troubleshooting"


@dataclass
class PageData:
    id: str
    title: str
    summary: str | None
    version: str | None
    status: str
    updated: _dt.date | None
    tags: list[str]
    deprecation: dict | None
    requires: list[dict]
    participants: list[dict]
    inputs: list[dict]
    generated: list[dict]
    sequence: str
    state: str
    flowchart: str
    steps: list[Step]
    guards: list[GuardRow]
    failures: list[FailureRow]
    lifecycle: dict | None
    troubleshooting: list[TroubleRow]
    changelog: list[dict]
    handoffs: list[dict]
    authorization_guide: str | None
    related: list[dict]
    secret_inputs: list[str] = field(default_factory=list)
    #: the names of the flow's inputs (``inputs_linked`` and ``value_cell`` link their «NAME»)
    input_names: list[str] = field(default_factory=list)
    #: what happens after the happy path (a handoff), shown near the top: {"state", "title", "text"}
    next: dict | None = None


def _input_shown(name: str, inp) -> str | None:
    if inp.secret:
        return f"«{name}»"
    if inp.example is not None:
        return inp.example
    if inp.default is not None:
        return D.value_text(inp.default)
    return None


_URL_ONLY = re.compile(r"^https?://\S+$")


def _changelog(flow: Flow, given: list[dict] | None) -> list[dict]:
    if given is None:
        return [
            {"version": c.version, "date": c.date, "notes": list(c.notes), "changes": [], "since": None}
            for c in flow.changelog
        ]
    out = []
    for entry in given:
        notes = entry.get("notes") or []
        out.append(
            {
                "version": str(entry.get("version", "")),
                "date": entry.get("date"),
                "notes": [notes] if isinstance(notes, str) else list(notes),
                "changes": [dict(c) for c in entry.get("changes") or []],
                "since": str(entry["since"]) if entry.get("since") else None,
            }
        )
    return out


def _poll_words(flow: Flow, t) -> str:
    """``From step 1 on, poll … until …. Meanwhile: 400 authorization_pending: poll again; …``."""
    poll = t.request.poll
    return f"{L.poll_label(flow, t, poll)}. Intermediate answers: {L.poll_text(flow, poll)}."


def build_page_data(flow: Flow, changelog: list[dict] | None = None) -> PageData:
    with one_page(flow):
        return _build_page_data(flow, changelog)


def _build_page_data(flow: Flow, changelog: list[dict] | None) -> PageData:
    actors = flow.actors
    states = flow.state_map

    def state_title(sid: str) -> str:
        s = states.get(sid)
        return s.label if s else sid

    order = D.ordered_transitions(flow)
    steps: list[Step] = []
    for n, t in enumerate(order, 1):
        req, resp = t.request, t.response
        steps.append(
            Step(
                n=n,
                id=t.id,
                title=t.title,
                description=t.description,
                sender=actors[t.sender].name if t.sender in actors else t.sender,
                receiver=actors[t.receiver].name if t.receiver in actors else t.receiver,
                route=f"{actors[t.sender].name if t.sender in actors else t.sender} → "
                f"{actors[t.receiver].name if t.receiver in actors else t.receiver}",
                states=f"{state_title(t.from_)} → {state_title(t.to)}",
                method=req.method if req else None,
                endpoint=req.path if req else None,
                url=L.readable(flow, req.url) if req and req.url else None,
                params=D.key_params(flow, req) if req else [],
                auth=D.client_auth(req) if req else None,
                response=D.response_label(flow, resp, D.telling_fields(t)) if resp else None,
                action=t.action if not req else None,
                internal=t.internal,
                parallel=t.parallel,
                wait=D.wait_text(flow, t.wait) if t.wait is not None else None,
                discovered=req.endpoint if req else None,
                poll=_poll_words(flow, t) if req and req.poll else None,
            )
        )

    guards = [
        GuardRow(
            transition=t.id,
            title=t.title,
            states=f"{state_title(t.from_)} → {state_title(t.to)}",
            guard=t.guard.text if t.guard else None,
            expr=t.guard.expr if t.guard else None,
            trigger=t.trigger,
        )
        for t in order
    ]

    failures: list[FailureRow] = []
    trouble: list[TroubleRow] = []
    for t in order:
        tell = D.telling_fields(t)
        for f in t.failures:
            r = f.response
            row = FailureRow(
                step=t.id,
                step_title=t.title,
                id=f.id,
                name=D.failure_name(f),
                status=D.status_text(r.status) if r.outcome == "response" else "—",
                error=r.error,
                outcome=D.failure_label(flow, f, tell),
                cause=f.when,
                remedy=f.remedy,
                to=state_title(D.failure_target(t, f)),
                retry=f.retry,
            )
            failures.append(row)
            symptom = r.error or (D.failure_outcome(f) if r.outcome != "response" else row.name)
            trouble.append(TroubleRow(symptom, bool(r.error), row.status, f.when, f.remedy, "failure"))

    trouble += [
        TroubleRow(symptom=x.error, code=bool(re.fullmatch(r"[a-z][a-z0-9_]*", x.error)), status=str(x.status) if x.status else "—", cause=x.cause, remedy=x.remedy,
                   source="troubleshooting")
        for x in flow.troubleshooting
    ]

    lifecycle = _lifecycle(flow)
    dep = _deprecation(flow)

    handoffs = [{"state": s.id, "title": s.label, "text": s.handoff} for s in flow.states if s.handoff]

    return PageData(
        id=flow.id,
        title=flow.title,
        summary=flow.summary,
        version=flow.version,
        status=flow.status.value,
        updated=flow.updated,
        tags=list(flow.tags),
        deprecation=dep,
        requires=[
            {"id": k, "flow": r.flow, "title": r.title, "provides": _and_list([L.name_words(n) for n in r.provides])}
            for k, r in flow.requires.items()
        ],
        participants=[
            {"id": k, "name": a.name, "kind": a.kind.value, "base_url": L.readable(flow, a.base_url) if a.base_url else None,
             "description": a.description}
            for k, a in actors.items()
        ],
        inputs=[
            {"name": k, "description": i.description, "shown": _input_shown(k, i), "secret": i.secret,
             "env": i.env_var}
            for k, i in flow.inputs.items()
        ],
        generated=[{"name": k, "kind": g.kind.value, "parts": list(g.parts)} for k, g in flow.generate.items()],
        sequence=M.sequence(D.build_sequence(flow)),
        state=M.state(D.build_state_graph(flow)),
        flowchart=M.flowchart(D.build_flowchart(flow, order)),
        steps=steps,
        guards=guards,
        failures=failures,
        lifecycle=lifecycle,
        troubleshooting=trouble,
        changelog=_changelog(flow, changelog),
        handoffs=handoffs,
        authorization_guide=flow.links.authorization_guide,
        related=[{"title": k, "url": v} for k, v in flow.links.related.items()],
        secret_inputs=flow.secret_inputs(),
        input_names=list(flow.inputs),
        next=_next_handoff(flow, handoffs),
    )


def _lifecycle(flow: Flow) -> dict | None:
    if flow.lifecycle is None:
        return None
    lc = flow.lifecycle
    return {
        "tokens": [{"name": name, **tok.model_dump()} for name, tok in lc.tokens.items()],
        "storage": [{"platform": k, "where": v} for k, v in lc.storage.items()],
        "reauthenticate": list(lc.reauthenticate),
        "caching": list(lc.caching),
        "notes": lc.notes,
    }


def _deprecation(flow: Flow) -> dict | None:
    if flow.deprecation is None:
        return None
    d = flow.deprecation
    return {
        "replaced_by": d.replaced_by,
        "migration": d.migration,
        "migration_url": d.migration.strip() if _URL_ONLY.match(d.migration.strip()) else None,
        "sunset": d.sunset,
        "reason": d.reason,
    }


def _next_handoff(flow: Flow, handoffs: list[dict]) -> dict | None:
    """The handoff of the state the happy path ends in (else the first one): what happens next."""
    happy = L.happy_path(flow)
    end = happy[-1].to if happy else None
    return next((h for h in handoffs if h["state"] == end), handoffs[0] if handoffs else None)


def _and_list(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


# ------------------------------------------------------------------ templates


def _env(templates_dir: str | None) -> TemplateSandbox:
    if not templates_dir:
        return _cached_env(None, ())
    folder = str(Path(templates_dir).resolve())
    return _cached_env(folder, _folder_signature(folder))


def _folder_signature(folder: str) -> tuple:
    """Names, sizes and times of the files in a templates folder: a file added there must
    replace the built-in template of that name (a cached environment would keep using it)."""
    root = Path(folder)
    if not root.is_dir():
        return ()
    out = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            st = p.stat()
            out.append((p.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns))
    return tuple(out)


@functools.lru_cache(maxsize=16)
def _cached_env(templates_dir: str | None, signature: tuple) -> TemplateSandbox:
    builtin = jinja2.FileSystemLoader(str(default_templates_dir()))
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        if not Path(templates_dir).is_dir():
            raise FileNotFoundError(f"templates folder {templates_dir} does not exist")
        loaders.append(jinja2.FileSystemLoader(templates_dir))
    loaders += [builtin, jinja2.PrefixLoader({"flowdoc": builtin})]
    env = TemplateSandbox(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # no check of each template's time on every include (some 20 a page): the built-in
        # templates never change at run time, and a change to a file of the templates folder
        # changes its signature (names, sizes, times), which makes a new environment
        auto_reload=False,
    )
    env.add_data_classes(PageData, Step, GuardRow, FailureRow, TroubleRow)
    env.filters.update(
        md=F.md_prose,
        heading=escape.md_heading,
        link=escape.md_link,
        cell=F.cell,
        code=escape.md_code,
        code_cell=F.code_cell,
        code_cells=F.code_cells,
        url=escape.md_url,
        html=escape.html_text,
        attr=escape.html_attr,
        duration=D.duration_text,
        date=F.date,
        blockquote=F.blockquote,
        inputs_linked=F.inputs_linked,
        plain_cell=F.plain_cell,
        value_cell=F.value_cell,
    )
    return env


#: the page data made last: (flow, its changelog as build_page_data reads it, the data). A site
#: renders the latest page and the vN page that repeats it one after the other, from the same
#: flow object and the same changelog: their data (three diagrams, every table) is made once.
#: Templates cannot change it (the sandbox is immutable).
_last_data: tuple[Flow, list[dict], PageData] | None = None


def _page_data(flow: Flow, changelog: list[dict] | None) -> PageData:
    global _last_data
    entries = _changelog(flow, changelog)
    last = _last_data
    if last is not None and last[0] is flow and last[1] == entries:
        return last[2]
    data = build_page_data(flow, changelog)
    _last_data = (flow, entries, data)
    return data


def _redact_page(flow: Flow, text: str) -> str:
    """Last line of defence: a secret input's default never appears on a page."""
    for name, value in D.secret_values(flow).items():
        if len(value) >= 4 and value in text:
            text = text.replace(value, f"«{name}»")
    return text


def render_page(
    flow: Flow,
    *,
    templates_dir: str | Path | None = None,
    changelog: list[dict] | None = None,
    context: dict | None = None,
) -> str:
    env = _env(str(templates_dir) if templates_dir is not None else None)
    data = _page_data(flow, changelog)
    site = dict(context or {})
    text = render_template(env, PAGE_TEMPLATE, flow=flow, page=data, site=site)
    return _redact_page(flow, F.tidy(text))
