"""Recording a run's exchanges for proof files (``flowdoc verify --proof DIR``).

The runner hands every exchange to :meth:`ProofRecorder.exchanged` as it happens (raw: the
request as sent, the response as received). Nothing is redacted then: a value may be known as
secret only later in the run (a code seen first in a Location, then sent back). When the run is
over, :meth:`ProofRecorder.proofs` turns them into :class:`~flowdoc.proofs.Proof` models with the
run's one redactor, through the same helpers as the reports' excerpts (``_http``), then scrubs
every string once more and numbers the placeholders of each file in order of appearance, so that
two runs against the same server give the same file.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json
import re
import threading
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import parse_qsl, unquote_plus, urlsplit, urlunsplit

import httpx

from .._version import __version__
from ..model.flow import Flow
from ..proofs import PROOF_SCHEMA_ID, Proof, flow_digest, proof_file_name
from ._http import (
    _SHOWN_REQUEST_HEADERS,
    _SHOWN_RESPONSE_HEADERS,
    _redact_authorization,
    _redact_cookie_pairs,
    _redact_set_cookie,
    _shown,
    redact_url,
    redacted_form,
)
from ._received import Received
from ._redact import Redactor, is_secret_key, scrub
from ._result import ERROR, FAILED, PASSED, SKIPPED, ScenarioResult

if TYPE_CHECKING:
    from ._plan import Scenario
    from ._runner import Exchange

Json = dict[str, Any]

__all__ = ["ProofRecorder", "env_name_of"]

#: a text body (or a JSON body written out) longer than this is cut, with the count left out
MAX_BODY_TEXT = 4000
#: response headers never written: they change on every run (or say nothing about the flow)
_UNSTABLE_HEADERS = frozenset({"date", "x-request-id", "x-correlation-id", "etag", "last-modified", "age",
                               "x-response-time", "server-timing"})
_NUMBERED = re.compile(r"«([^«»]{1,200}?)#(\d+)»")
_ANY_PLACEHOLDER = re.compile(r"«([^«»]{1,200})»")
#: values made fresh for each run that are not secret: named, so that two runs give the same file
_VOLATILE_KEYS = ("state", "nonce", "code_challenge")
_COOKIE_DATES = re.compile(r"(;\s*(?:expires|max-age)=)[^;]*", re.IGNORECASE)


def env_name_of(url: str | None) -> str | None:
    """The environment a run went against, named by the host of its issuer or base URL."""
    if not url:
        return None
    try:
        host = urlsplit(str(url)).hostname
    except ValueError:
        return None
    return host or None


class ProofRecorder:
    """Exchanges and results of the scenarios of a run, kept until the proof files are made."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._exchanges: dict[int, list[Exchange]] = {}
        self._done: list[tuple[Scenario, ScenarioResult]] = []
        self._order: dict[int, int] = {}

    def planned(self, scenarios: list[Scenario]) -> None:
        """The plan's order: scenarios appear in proof files in it, however they finished."""
        with self._lock:
            for scn in scenarios:
                self._order.setdefault(id(scn), len(self._order))

    def exchanged(self, scenario: Scenario, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.setdefault(id(scenario), []).append(exchange)

    def finished(self, scenario: Scenario, result: ScenarioResult) -> None:
        with self._lock:
            self._done.append((scenario, result))

    def raw_exchanges(self) -> list[Exchange]:
        """Every exchange recorded (unredacted: for tests that look for leaks)."""
        return [ex for lst in self._exchanges.values() for ex in lst]

    def proofs(self, redactor: Redactor, environment: str, day: _dt.date | None = None) -> list[tuple[str, Proof]]:
        """(file name, proof) per flow and version that ran, in the order the flows first ran."""
        return [(name, proof) for name, proof, _keys in self.proof_parts(redactor, environment, day)]

    def proof_parts(self, redactor: Redactor, environment: str, day: _dt.date | None = None,
                    fingerprint: Callable[[str], str] | None = None) -> list[tuple[str, Proof, dict[str, str]]]:
        """(file name, proof, keys) per flow and version: with ``fingerprint``, ``keys`` maps each
        numbered placeholder of the file to ``fingerprint(its value)``, so that proofs of the same
        flow made by several processes (pytest-xdist workers) can be merged with one number for one
        value (:func:`flowdoc.proofs.merge_proofs`)."""
        day = day or _dt.datetime.now(_dt.timezone.utc).date()
        groups: dict[tuple[str, str | None], list[tuple[Scenario, ScenarioResult]]] = {}
        done = sorted(self._done, key=lambda d: self._order.get(id(d[0]), len(self._order)))
        for scn, res in done:
            groups.setdefault((scn.flow.id, scn.flow.version), []).append((scn, res))
        out = []
        for (fid, version), runs in groups.items():
            flow = runs[0][0].flow
            data, keys = self._proof_data(flow, runs, redactor, environment, day, fingerprint)
            out.append((proof_file_name(fid, version), Proof.model_validate(data), keys))
        return out

    def _proof_data(self, flow: Flow, runs: list[tuple[Scenario, ScenarioResult]], red: Redactor, environment: str,
                    day: _dt.date, fingerprint: Callable[[str], str] | None = None) -> tuple[Json, dict[str, str]]:
        scenarios = [self._scenario(scn, res, red) for scn, res in runs]
        statuses = [s["status"] for s in scenarios]
        data: Json = {
            "$schema": PROOF_SCHEMA_ID,
            "format": 1,
            "flowdoc": __version__,
            "flow": {"id": flow.id, "version": flow.version, "title": flow.title, "hash": flow_digest(flow)},
            "environment": environment,
            "date": day.isoformat(),
            "summary": {"scenarios": len(scenarios), "passed": statuses.count(PASSED),
                        "failed": statuses.count(FAILED), "errors": statuses.count(ERROR),
                        "skipped": statuses.count(SKIPPED)},
            "scenarios": scenarios,
        }
        volatile = _volatile([ex for scn, _res in runs for ex in self._exchanges.get(id(scn), [])])
        renamed: dict[str, str] = {}  # a placeholder of the file -> the run's
        data = _renumber(scrub(data, lambda text: volatile.redact(red.redact(text))), renamed)
        data["placeholders"] = _placeholders(data, flow)
        keys: dict[str, str] = {}
        if fingerprint is not None:
            values = {ph: v for r in (red, volatile) for v, ph in r._placeholder.items()}
            keys = {ph: fingerprint(values[run]) for ph, run in renamed.items() if run in values}
        return data, keys

    def _scenario(self, scn: Scenario, res: ScenarioResult, red: Redactor) -> Json:
        message = ""
        if res.status in (FAILED, ERROR) and res.failure is not None:
            message = res.failure.summary()
        elif res.status == SKIPPED:
            message = res.reason
        branch = f"{scn.target.id}/{scn.failure.id}" if scn.failure is not None and scn.target is not None else None
        exchanges = [_exchange(ex, red) for ex in _ordered(self._exchanges.get(id(scn), []))]
        return {"id": res.id, "name": res.name, "kind": res.kind, "title": res.title, "status": res.status,
                "branch": branch, "message": red.redact(message), "exchanges": exchanges}


def _ordered(exchanges: list[Exchange]) -> list[Exchange]:
    """The exchanges in the order they were sent; those of one parallel group by step id (they
    finish in any order)."""
    out: list[Exchange] = []
    run: list[Exchange] = []
    for ex in [*exchanges, None]:
        if ex is not None and "(parallel)" in ex.role and (not run or run[0].role == ex.role):
            run.append(ex)
            continue
        out += sorted(run, key=lambda e: e.transition)
        run = [ex] if ex is not None and "(parallel)" in ex.role else []
        if ex is not None and not run:
            out.append(ex)
    return out


def _exchange(ex: Exchange, red: Redactor) -> Json:
    short = ex.role.startswith("requires ")
    if ex.request is not None:
        request = _request(ex.request, red, short=short)
        if ex.out.follow_redirects:
            request["follow_redirects"] = True
    else:
        request = {"method": ex.out.method, "url": redact_url(ex.out.url, red),
                   "base": redact_url(_base(ex.out.url), red)}
    response = _response(ex.got, red, short=short) if ex.got is not None else None
    return {"transition": ex.transition, "role": ex.role, "outcome": ex.outcome, "ok": ex.ok,
            "request": request, "response": response, "note": red.redact(ex.note or "")}


def _base(url: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, p.path, "", ""))


def _clip(text: str) -> tuple[str, int]:
    return (text, 0) if len(text) <= MAX_BODY_TEXT else (text[:MAX_BODY_TEXT], len(text) - MAX_BODY_TEXT)


def _query(url: str, red: Redactor) -> list[list[str]]:
    try:
        query = urlsplit(url).query
    except ValueError:
        return []
    pairs = []
    for k, v in parse_qsl(query, keep_blank_values=True):
        if is_secret_key(k) and v and not red.is_secret(v):
            red.add(v, k, declared=True)
        pairs.append([red.redact(k), red.placeholder(v) or red.redact(v)])
    return pairs


def _basic(value: str, red: Redactor) -> Json | None:
    """``Authorization: Basic`` decoded: the client id, and the secret as its placeholder."""
    scheme, _, cred = value.partition(" ")
    if scheme.lower() != "basic" or not cred:
        return None
    try:
        user, sep, password = base64.b64decode(cred.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, ValueError):
        return None
    if not sep:
        return None
    user, password = unquote_plus(user), unquote_plus(password)
    shown = red.placeholder(password) or red.add(password, "client_secret", declared=True) or "«client_secret»"
    return {"scheme": "basic", "username": red.redact(user), "password": shown}


def _request_headers(req: httpx.Request, red: Redactor) -> tuple[list[list[str]], Json | None]:
    headers, auth = [], None
    for k, v in req.headers.multi_items():
        low = k.lower()
        if not _shown(k, _SHOWN_REQUEST_HEADERS):
            continue
        if low == "authorization":
            auth = _basic(v, red) or auth
            v = _redact_authorization(v, red)
        elif low == "cookie":
            v = _redact_cookie_pairs(v, red)
        headers.append([k.title(), red.redact(v)])
    return headers, auth


def _request(req: httpx.Request, red: Redactor, *, short: bool = False) -> Json:
    raw = str(req.url)
    out: dict[str, Any] = {"method": req.method, "url": redact_url(raw, red), "base": redact_url(_base(raw), red)}
    if short:
        return out
    out["query"] = _query(raw, red)
    out["headers"], auth = _request_headers(req, red)
    if auth is not None:
        out["auth"] = auth
    content = req.content if hasattr(req, "_content") else b""
    if content:
        out["body"] = _request_body(content, req.headers.get("content-type", ""), red)
    return out


def _request_body(content: bytes, ctype: str, red: Redactor) -> Json:
    text = content.decode("utf-8", "replace")
    if "x-www-form-urlencoded" in ctype:
        return {"kind": "form", "form": [[red.redact(k), v] for k, v in redacted_form(text, red)]}
    if "json" in ctype:
        try:
            return {"kind": "json", "json": red.redact_obj(json.loads(text))}
        except (ValueError, RecursionError):
            pass
    body, cut = _clip(red.redact(text))
    return {"kind": "text", "text": body, "truncated": cut}


def _response(got: Received, red: Redactor, *, short: bool = False) -> Json:
    out: dict[str, Any] = {"status": got.status, "reason": red.redact(got.reason or "")}
    if short:
        return out
    headers = []
    for k, v in got.headers.multi_items():
        low = k.lower()
        if low in _UNSTABLE_HEADERS or not _shown(k, _SHOWN_RESPONSE_HEADERS):
            continue
        if low == "set-cookie":
            v = _COOKIE_DATES.sub(lambda m: m.group(1) + "…", _redact_set_cookie(v, red))
        elif low == "location":
            v = redact_url(v, red)
        headers.append([k.title(), red.redact(v)])
    out["headers"] = headers
    out["redirects"] = [{"method": m, "url": redact_url(u, red), "status": s} for m, u, s in got.history]
    if got.body:
        out["body"] = _response_body(got, red)
    return out


def _response_body(got: Received, red: Redactor) -> Json:
    body = got.json
    if body is not None:
        data = red.redact_obj(body)
        text = json.dumps(data, ensure_ascii=False)
        if len(text) <= MAX_BODY_TEXT:
            return {"kind": "json", "json": data}
        cut, left = _clip(text)
        return {"kind": "text", "text": cut, "truncated": left}
    page = got.page
    if page is not None:
        forms = [{"id": red.redact(f.id) if f.id else None, "method": f.method, "action": redact_url(f.action, red),
                  "fields": [red.redact(n) for n in f.fields]} for f in page.forms[:20]]
        return {"kind": "html", "html": {"title": red.redact(page.title) if page.title else None,
                                         "errors": [red.redact(e) for e in page.errors[:50]], "forms": forms}}
    shown, left = _clip(red.redact(got.text))
    return {"kind": "text", "text": shown, "truncated": left}


def _volatile(exchanges: list[Exchange]) -> Redactor:
    """Placeholders for the values a client makes fresh for each run and sends (``state``,
    ``nonce``, ``code_challenge``): not secret, but different every time."""
    named = Redactor()
    for ex in exchanges:
        req, got = ex.request, ex.got
        if req is None:
            continue
        pairs = parse_qsl(urlsplit(str(req.url)).query, keep_blank_values=True)
        if "x-www-form-urlencoded" in req.headers.get("content-type", ""):
            pairs += parse_qsl(req.content.decode("utf-8", "replace"), keep_blank_values=True)
        if got is not None:
            pairs += list(got.location_query.items())
        for k, v in pairs:
            if k in _VOLATILE_KEYS and len(v) >= 8:
                named.add(v, k, declared=True)
    return named


def _renumber(data: Json, renamed: dict[str, str] | None = None) -> Json:
    """Number each placeholder label's values in order of appearance in this file (``«code#7»`` of
    the run is ``«code#1»`` here when it is the first code of the file); ``renamed`` gets each new
    placeholder -> the run's."""
    numbers: dict[str, dict[str, int]] = {}

    def sub(m: re.Match[str]) -> str:
        label, n = m.group(1), m.group(2)
        seen = numbers.setdefault(label, {})
        if n not in seen:
            seen[n] = len(seen) + 1
            if renamed is not None:
                renamed[f"«{label}#{seen[n]}»"] = m.group(0)
        return f"«{label}#{seen[n]}»"

    text = json.dumps(data, ensure_ascii=False)  # in document order (dicts keep their insertion order)
    out: Json = json.loads(_NUMBERED.sub(sub, text))
    return out


def _placeholders(data: Json, flow: Flow) -> dict[str, dict[str, str]]:
    text = json.dumps(data, ensure_ascii=False)
    out: dict[str, dict[str, str]] = {}
    generated = set(flow.generate or {})
    for m in _ANY_PLACEHOLDER.finditer(text):
        ph = m.group(0)
        if ph in out:
            continue
        label = _NUMBERED.sub(lambda n: n.group(1), ph).strip("«»")
        name = label.split(".", 1)[1] if label.startswith(flow.id + ".") else label
        if label.startswith("cookie:"):
            kind, name = "cookie", label[len("cookie:"):]
        elif name in flow.inputs:
            kind = "input"
        elif name.split(".", 1)[0] in generated or name in ("pkce.verifier", "otp", *_VOLATILE_KEYS):
            kind = "generated"
        else:
            kind = "value"
        out[ph] = {"kind": kind, "name": name}
    return out
