"""Pages built with proofs (``flowdoc build --proofs DIR``, plugin option ``proofs_dir``).

A flow page whose flow and version has a proof file gets, under its title, a badge ("Verified
against staging on 2026-11-29 — 29/29 scenarios") that links to the page's proof section
(``#proof``); the section shows, per step, the request verify sent (as HTTP, curl, Python and
JavaScript in tabs) and the response it got, and per failure branch the real error response.
A proof is stale when the flow changed since (its digest differs) or is older than
``proof_max_age`` days; the badge and the section say so plainly. The index shows each flow's
proof status. A page with no proof is built exactly as without proofs.

Everything a proof file holds is hostile text: each value goes through :mod:`flowdoc.escape`
(HTML for code, Markdown for prose) and each code sample quotes its literals
(:mod:`flowdoc.render.samples`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..escape import html_attr, html_text, md_code, md_link, md_text
from ..model.flow import Flow
from ..model.version import Version
from ..proofs import Proof, ProofError, flow_digest, load_proof
from ..render.labels import ordered_transitions
from ..render.samples import env_names, request_samples
from .errors import PublishError

__all__ = ["DEFAULT_MAX_AGE", "ProofSet", "ProofStatus"]

#: a proof older than this many days is stale (``--proof-max-age``, plugin ``proof_max_age``)
DEFAULT_MAX_AGE = 30
#: at most this many proof files are read from a folder
MAX_FILES = 10_000


@dataclass(frozen=True)
class ProofStatus:
    """What a page says of its proof: ``verified``, ``failing``, ``changed`` or ``old``."""

    proof: Proof
    state: str
    text: str

    @property
    def stale(self) -> bool:
        return self.state in ("changed", "old")


class ProofSet:
    """The proof files of a folder, by flow id and version."""

    def __init__(self, proofs: dict[tuple[str, str | None], Proof], key: str, *, max_age: int = DEFAULT_MAX_AGE,
                 today: _dt.date | None = None):
        self.proofs = proofs
        self.max_age = max_age
        self.today = today or _dt.datetime.now(_dt.UTC).date()
        #: what pages built with these proofs depend on (for the build cache)
        self.key = hashlib.sha256(json.dumps([key, max_age, self.today.isoformat()]).encode()).hexdigest()

    @classmethod
    def load(cls, folder: str | Path, *, max_age: int = DEFAULT_MAX_AGE, today: _dt.date | None = None) -> ProofSet:
        """Every ``*.proof.json`` of ``folder``; raise :class:`PublishError` naming a bad file."""
        folder = Path(folder)
        if not folder.is_dir():
            raise PublishError(f"{folder}: no such proofs folder")
        if max_age < 0:
            raise PublishError(f"proof_max_age must be 0 or more days, not {max_age}")
        files = sorted(folder.glob("*.proof.json"))[: MAX_FILES + 1]
        if len(files) > MAX_FILES:
            raise PublishError(f"{folder}: more than {MAX_FILES} proof files")
        proofs: dict[tuple[str, str | None], Proof] = {}
        where: dict[tuple[str, str | None], Path] = {}
        digest = hashlib.sha256()
        for path in files:
            try:
                proof = load_proof(path)
            except ProofError as exc:
                raise PublishError(f"{exc} (remove it, or write it again with flowdoc verify --proof)") from None
            ident = (proof.flow.id, proof.flow.version)
            if ident in proofs:
                raise PublishError(f"{path}: a second proof of {proof.flow.id} {proof.flow.version or ''} "
                                   f"(the first is {where[ident]}); keep one")
            proofs[ident], where[ident] = proof, path
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return cls(proofs, digest.hexdigest(), max_age=max_age, today=today)

    def for_flow(self, flow: Flow) -> Proof | None:
        """The flow's own proof, or else the newest proof of another version of its major version
        (which then reads as changed since)."""
        own = self.proofs.get((flow.id, flow.version))
        if own is not None:
            return own
        major = _major(flow.version)
        others = [p for (fid, v), p in self.proofs.items() if fid == flow.id and _major(v) == major]
        return max(others, key=lambda p: (p.date, Version.key(p.flow.version)), default=None)

    def status(self, flow: Flow, digest: str | None = None) -> ProofStatus | None:
        """``digest``: the flow's :func:`~flowdoc.proofs.flow_digest` when known (else computed)."""
        proof = self.for_flow(flow)
        if proof is None:
            return None
        s = proof.summary
        env, day = " ".join(proof.environment.split()), proof.date.isoformat()
        counts = f"{s.passed}/{s.scenarios} scenarios"
        if proof.flow.hash != (digest or flow_digest(flow)):
            return ProofStatus(proof, "changed", f"Changed since last verified against {env} on {day} — {counts}")
        if (self.today - proof.date).days > self.max_age:
            return ProofStatus(proof, "old", f"Last verified against {env} on {day}, more than {self.max_age} "
                                             f"days ago — {counts}")
        if s.passed != s.scenarios:
            return ProofStatus(proof, "failing", f"Verification failed against {env} on {day} — {counts}")
        return ProofStatus(proof, "verified", f"Verified against {env} on {day} — {counts}")


def _major(version: str | None) -> int | None:
    v = Version.of(version)
    return v.major if v is not None else None


# ------------------------------------------------------------------ the badge and the index


def badge(status: ProofStatus, link: str = "#proof") -> str:
    """The badge under a page's title (HTML: it links to the proof section)."""
    return (f'<p class="flowdoc-proof-badge flowdoc-proof-{html_attr(status.state)}">'
            f'<a href="{html_attr(link)}">{html_text(status.text)}</a></p>')


def index_cell(status: ProofStatus | None, link: str) -> str:
    """The index's "Proof" cell of one flow (Markdown for a table cell)."""
    if status is None:
        return "not verified"
    short = {"verified": "verified", "failing": "failing", "changed": "changed since verified",
             "old": "verified long ago"}[status.state]
    p = status.proof
    text = f"{short}: {p.environment}, {p.date.isoformat()}, {p.summary.passed}/{p.summary.scenarios}"
    return (f'<span class="flowdoc-proof-cell flowdoc-proof-{html_attr(status.state)}">'
            f"{md_link(text, link)}</span>")


# ------------------------------------------------------------------ the section


class _Tabs:
    """Ids of tab sets, unique within a page."""

    def __init__(self) -> None:
        self.n = 0

    def html(self, samples: list[tuple[str, str, str]]) -> str:
        self.n += 1
        base = f"flowdoc-tabs-{self.n}"
        buttons, panels = [], []
        for i, (label, lang, code) in enumerate(samples):
            tab, panel = f"{base}-tab-{i}", f"{base}-panel-{i}"
            buttons.append(f'<button type="button" role="tab" id="{tab}" aria-controls="{panel}" '
                           f'aria-selected="{"true" if i == 0 else "false"}" data-flowdoc-lang="{html_attr(lang)}">'
                           f"{html_text(label)}</button>")
            panels.append(f'<div class="flowdoc-tabpanel" role="tabpanel" id="{panel}" aria-labelledby="{tab}" '
                          f'data-flowdoc-label="{html_attr(label)}">'
                          f'<pre><code class="language-{html_attr(lang)}">{_code(code)}</code></pre></div>')
        return (f'<div class="flowdoc-tabs" id="{base}">'
                f'<div class="flowdoc-tablist" role="tablist" aria-label="The request as code">{"".join(buttons)}</div>'
                f'{"".join(panels)}</div>')


def _code(text: str) -> str:
    """Code for a ``<pre>`` inside raw HTML: escaped, and with no blank line (which would end
    Markdown's raw HTML block): line breaks as character references."""
    return html_text(text).replace("\r", "&#13;").replace("\n", "&#10;")


def _pre(text: str, lang: str = "http") -> str:
    return f'<pre class="flowdoc-proof-example"><code class="language-{lang}">{_code(text)}</code></pre>'


def response_text(resp: Any) -> str:
    """A response of a proof file as HTTP: status line, headers, body."""
    lines = [f"HTTP/1.1 {resp.status} {resp.reason}".rstrip()]
    for hop in resp.redirects:
        lines.insert(0, f"(followed: {hop.method} {hop.url} → {hop.status})")
    lines += [f"{k}: {v}" for k, v in resp.headers]
    body = resp.body
    if body is not None:
        lines.append("")
        lines.append(_body_text(body))
    return "\n".join(lines)


def _body_text(body: Any) -> str:
    if body.kind == "json":
        return json.dumps(body.json_, indent=2, ensure_ascii=False)
    if body.kind == "form":
        return "&".join(f"{k}={v}" for k, v in body.form or [])
    if body.kind == "html":
        page = body.html
        out = [f"<!-- an HTML page: {page.title or 'no title'} -->"]
        out += [f"<!-- error text: {e} -->" for e in page.errors]
        out += [f"<!-- form {f.id or ''} {f.method} {f.action}: {', '.join(f.fields) or 'no fields'} -->"
                for f in page.forms]
        return "\n".join(out)
    text = body.text or ""
    return text + (f"\n… ({body.truncated} more characters)" if body.truncated else "")


def _step_exchanges(proof: Proof) -> dict[str, Any]:
    """transition id → the exchange of its step in the happy path (else in any passing scenario)."""
    out: dict[str, Any] = {}
    ordered = sorted(proof.scenarios, key=lambda s: (s.name != "happy-path", s.status != "passed"))
    for scn in ordered:
        for ex in scn.exchanges:
            if ex.role.split(" ")[0] == "step" and ex.response is not None:
                out.setdefault(ex.transition, ex)
    return out


def _failure_exchanges(proof: Proof) -> dict[str, Any]:
    """``TRANSITION/FAILURE`` → the exchange that showed the branch's error (the last one sent
    for the branch: provoked, an attempt, or the step it runs on through)."""
    out: dict[str, Any] = {}
    for scn in proof.scenarios:
        if not scn.branch:
            continue
        shown = [ex for ex in scn.exchanges if ex.response is not None and not ex.role.startswith(("step", "requires",
                                                                                                  "then"))]
        if shown:
            out[scn.branch] = (scn, shown[-1])
    return out


def proof_section(flow: Flow, status: ProofStatus) -> str:
    """The ``## Proof`` section of a flow page (Markdown with raw HTML blocks)."""
    proof = status.proof
    s = proof.summary
    var = env_names(proof.placeholders, flow.inputs).get
    tabs = _Tabs()
    out = ["## Proof {#proof}", "", f'<div class="flowdoc-proof flowdoc-proof-{html_attr(status.state)}" '
                           'markdown="1">', ""]
    out.append(md_text(f"Verified against {proof.environment} on {proof.date.isoformat()} with flowdoc "
                       f"{proof.flowdoc}: {s.passed} of {s.scenarios} scenarios passed"
                       + (f", {s.failed} failed" if s.failed else "") + (f", {s.errors} errors" if s.errors else "")
                       + (f", {s.skipped} skipped" if s.skipped else "") + "."))
    if status.stale:
        out += ["", f"**{md_text(status.text)}.** The examples below show what the server answered then."]
    unproven = [scn for scn in proof.scenarios if scn.status != "passed"]
    if unproven:
        out += ["", "Not passed:", ""]
        out += [f"- {md_code(scn.name)} ({md_text(scn.status)}): {md_text(' '.join(scn.message.split()) or '—')}"
                for scn in unproven]
    out += ["", "Secrets, codes, tokens and cookies are shown as placeholders; the code reads each from the "
            "environment variable of the same name (see Inputs)."]
    steps = _step_exchanges(proof)
    for n, t in enumerate(ordered_transitions(flow), 1):
        ex = steps.get(t.id)
        if ex is None:
            continue
        out += ["", f"**{n}. {md_text(t.title)}** — {md_code(ex.request.method + ' ' + ex.request.base)}", "",
                tabs.html(request_samples(ex.request, lambda ph: var(ph) or "FLOWDOC_VALUE")), "",
                "Response:", "", _pre(response_text(ex.response))]
    failures = _failure_exchanges(proof)
    rows = [(t, f) for t in flow.transitions for f in t.failures if f"{t.id}/{f.id}" in failures]
    if rows:
        out += ["", "**Failure responses**"]
        for t, f in rows:
            _scn, ex = failures[f"{t.id}/{f.id}"]
            out += ["", f"{md_code(f.id)} at {md_code(t.id)} ({md_text(f.when or '')}):", "",
                    _pre(response_text(ex.response))]
    out += ["", "</div>", ""]
    return "\n".join(out)
