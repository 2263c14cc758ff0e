"""OpenAPI cross-check: what the flows document exists in the API's OpenAPI 3.x description.

For every HTTP step of a flow (and each of its failure branches):

* the endpoint and method exist (``/interaction/{uid}`` matches ``/interaction/{id}``; a server's
  base path such as ``/v1`` may prefix the documented path or not);
* every documented status is a declared response (exact, a ``4XX`` range or ``default``);
* documented response fields (``fields``, ``body``, ``capture: body.x``) are properties of the
  response's JSON schema, and the request's query, form and JSON parameters are declared;
* a documented error code is in the ``enum`` (or ``const``) of the response's ``error`` property,
  where the description lists one.

Only local ``$ref`` (``#/...``) are followed, at most :data:`MAX_REF_HOPS` in a chain; a remote
reference is never fetched, and what it would describe is taken as unknown (not reported). A
description is read from a file or fetched from the one http(s) URL the user names: redirects
are not followed, the body is capped at :data:`MAX_BYTES`, the request times out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import unquote, urlsplit

import httpx

from ..diagnostics import Diagnostic, DiagnosticList
from ..load.yamlsafe import YamlError, parse_yaml
from ..model.flow import Flow, Transition
from ..render.labels import param_name
from .openapi_schema import enum_values, properties

__all__ = ["OpenApiError", "OpenApiFinding", "Description", "Totals", "load_description", "check_flows"]

MAX_BYTES = 16 * 1024 * 1024
MAX_REF_HOPS = 32  # a $ref chain longer than this is taken as unknown
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class OpenApiError(Exception):
    """The description cannot be read (missing, unreachable, not OpenAPI 3): exit code 2."""


@dataclass(frozen=True)
class OpenApiFinding(Diagnostic):
    """A finding at the flow's FILE:LINE:COL that also names the place in the description."""

    openapi: str = ""  # the description, as the user named it
    pointer: str = ""  # JSON pointer into it, e.g. #/paths/~1token/post/responses


# ------------------------------------------------------------------ reading


def _fetch(url: str, timeout: float) -> bytes:
    try:
        with httpx.Client(follow_redirects=False, timeout=timeout, trust_env=False) as client:
            with client.stream("GET", url, headers={"Accept": "application/yaml, application/json"}) as resp:
                if resp.is_redirect:
                    where = resp.headers.get("location", "")
                    raise OpenApiError(f"{url} redirects to {where[:200]}; name the final URL if you trust it")
                if resp.status_code != 200:
                    raise OpenApiError(f"{url} answered {resp.status_code}, not the description")
                data = bytearray()
                for chunk in resp.iter_bytes():
                    data += chunk
                    if len(data) > MAX_BYTES:
                        raise OpenApiError(f"{url} sends more than {MAX_BYTES // (1024 * 1024)} MiB")
                return bytes(data)
    except httpx.HTTPError as exc:
        raise OpenApiError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from None


def _read(source: str, timeout: float) -> bytes:
    scheme = urlsplit(source).scheme.lower() if "://" in source else ""
    if scheme in ("http", "https"):
        return _fetch(source, timeout)
    if scheme:
        raise OpenApiError(f"'{source}': only http(s) URLs and files are read, not {scheme}:")
    path = Path(source)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise OpenApiError(f"{source} is larger than {MAX_BYTES // (1024 * 1024)} MiB")
        return path.read_bytes()
    except OSError as exc:
        raise OpenApiError(f"cannot read {source}: {exc.strerror or exc}") from None


def _parse(data: bytes, source: str) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise OpenApiError(f"{source} is not UTF-8 text") from None
    if text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise OpenApiError(f"{source} is not valid JSON: {str(exc)[:200]}") from None
    diags = DiagnosticList(source)
    try:
        value, _ = parse_yaml(text, diags)
    except YamlError:
        value = None
    # YAML 1.1 look-alikes (yes/no, 1.10) are kept as text in a description, not refused
    errors = [d for d in diags.errors if d.code != "yaml-ambiguous"]
    if errors:
        first = errors[0]
        raise OpenApiError(f"{first.location}: {first.message}")
    return value


def _escape(token: Any) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(*tokens: Any) -> str:
    return "#" + "".join("/" + _escape(t) for t in tokens)


@dataclass
class Description:
    """A parsed OpenAPI 3.x description."""

    source: str
    doc: dict
    base_paths: list[str] = field(default_factory=list)
    remote_refs: set[str] = field(default_factory=set)

    def lookup(self, ref: str) -> Any:
        """The value a local ``#/...`` reference names, or None."""
        node: Any = self.doc
        for raw in ref[2:].split("/") if ref != "#" else []:
            tok = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and tok in node:
                node = node[tok]
            elif isinstance(node, list) and tok.isdigit() and int(tok) < len(node):
                node = node[int(tok)]
            else:
                return None
        return node

    def resolve(self, node: Any, ptr: str) -> tuple[Any, str]:
        """Follow a chain of ``$ref``; (None, ptr) for a remote, missing or too long chain."""
        seen: set[str] = set()
        for _ in range(MAX_REF_HOPS):
            ref = node.get("$ref") if isinstance(node, dict) else None
            if not isinstance(ref, str):
                return node, ptr
            if not ref.startswith("#") or ref in seen:
                if not ref.startswith("#"):
                    self.remote_refs.add(ref)
                return None, ptr
            seen.add(ref)
            node, ptr = self.lookup(ref), ref
        return None, ptr


def load_description(source: str, *, timeout: float = 15.0) -> Description:
    """Read and parse an OpenAPI 3.x description from a file or an http(s) URL."""
    doc = _parse(_read(source, timeout), source)
    if not isinstance(doc, dict):
        raise OpenApiError(f"{source} is not an OpenAPI description (not a mapping)")
    if "swagger" in doc:
        raise OpenApiError(f"{source} is Swagger {doc.get('swagger')}; convert it to OpenAPI 3 first")
    version = doc.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        raise OpenApiError(f"{source} is not an OpenAPI 3 description (no 'openapi: 3.x' field)")
    if not isinstance(doc.get("paths", {}), dict):
        raise OpenApiError(f"{source}: 'paths' is not a mapping")
    return Description(source, doc, _base_paths(doc))


def _base_paths(doc: dict) -> list[str]:
    out = []
    for server in doc.get("servers") or []:
        if not isinstance(server, dict) or not isinstance(server.get("url"), str):
            continue
        url = server["url"]
        for name, var in (server.get("variables") or {}).items():
            if isinstance(var, dict) and isinstance(var.get("default"), str):
                url = url.replace("{" + str(name) + "}", var["default"])
        path = urlsplit(url).path if "://" in url else url
        path = path.rstrip("/")
        if path.startswith("/") and "{" not in path and path not in out:
            out.append(path)
    return out


# ------------------------------------------------------------------ paths


def _segment_matches(tmpl: str, seg: str) -> bool:
    """One path segment against a template segment (``{id}``, ``{name}.json``); linear, no regex."""
    if "{" not in tmpl:
        return tmpl == seg
    if tmpl.startswith("{") and tmpl.endswith("}") and tmpl.count("{") == 1:
        return bool(seg)
    literals, rest = [], tmpl
    while "{" in rest and "}" in rest[rest.index("{"):]:
        i = rest.index("{")
        literals.append(rest[:i])
        rest = rest[rest.index("}", i) + 1:]
    literals.append(rest)
    if not seg.startswith(literals[0]) or not seg.endswith(literals[-1]):
        return False
    pos, end = len(literals[0]), len(seg) - len(literals[-1])
    for lit in literals[1:-1]:
        found = seg.find(lit, pos + 1, end)
        if found < 0:
            return False
        pos = found + len(lit)
    return end > pos


def _split(path: str) -> list[str]:
    return path.split("?", 1)[0].strip("/").split("/")


def _flow_segment(seg: str) -> str:
    # a documented variable segment ({uid}) only matches a template segment
    return "\x00" if seg.startswith("{") and seg.endswith("}") else seg


def match_path(desc: Description, path: str) -> tuple[str, dict] | None:
    """The path item whose template matches the documented path: (template, item), most literal first."""
    candidates = [path] + [path[len(b):] for b in desc.base_paths if path.startswith(b + "/")]
    best: tuple[int, str, dict] | None = None
    for cand in candidates:
        segs = [_flow_segment(s) for s in _split(cand)]
        for tmpl, item in (desc.doc.get("paths") or {}).items():
            tsegs = _split(str(tmpl))
            if len(tsegs) != len(segs):
                continue
            ok = all(
                (t.startswith("{") and t.endswith("}")) if s == "\x00" else _segment_matches(t, s)
                for t, s in zip(tsegs, segs, strict=True)
            )
            if ok:
                score = sum(1 for t in tsegs if "{" not in t)
                if best is None or score > best[0]:
                    best = (score, str(tmpl), item)
    if best is None:
        return None
    return best[1], best[2]


# ------------------------------------------------------------------ the check


@dataclass
class Totals:
    """What was compared, for the summary line."""

    requests: int = 0
    statuses: int = 0
    fields: int = 0
    params: int = 0
    errors: int = 0


def _media(content: Any, kind: str) -> list[tuple[str, Any]]:
    if not isinstance(content, dict):
        return []
    out = []
    for mt, obj in content.items():
        base = str(mt).split(";", 1)[0].strip().lower()
        if kind == "json" and (base == "application/json" or base.endswith("+json")):
            out.append((str(mt), obj))
        elif kind == "form" and base in ("application/x-www-form-urlencoded", "multipart/form-data"):
            out.append((str(mt), obj))
        elif kind == "any":
            out.append((str(mt), obj))
    return out


def _response_fields(resp) -> list[tuple[str, tuple]]:
    """Documented body fields of a response: (dotted name, yaml path below the response)."""
    out = [(f, ("fields", k)) for k, f in enumerate(resp.fields)]
    out += [(name, ("body", name)) for name in getattr(resp, "body", {}) or {}]
    for name, cap in (getattr(resp, "capture", {}) or {}).items():
        src = cap.source
        if src.startswith("body.") and len(src) > 5:
            out.append((src[5:], ("capture", name)))
    return out


class _Checker:
    def __init__(self, desc: Description, flow: Flow):
        self.desc, self.flow = desc, flow
        self.found: list[Diagnostic] = []
        self.totals = Totals()

    def report(self, code: str, message: str, ypath: tuple, ptr: str, fix: str, *, key: bool = False) -> None:
        pos = (self.flow.key_pos if key else self.flow.pos)(*ypath)
        line, col = pos if pos else (None, None)
        self.found.append(OpenApiFinding(
            self.flow.file, line, col, code, f"{message} (OpenAPI {ptr})", "error", fix,
            openapi=self.desc.source, pointer=ptr))

    # -- one step
    def transition(self, i: int, t: Transition) -> None:
        r, resp = t.request, t.response
        if r is None or resp is None:
            return  # not an HTTP step: nothing to compare
        at = ("transitions", i)
        self.totals.requests += 1
        label = f"{r.method} {r.path}"
        hit = match_path(self.desc, r.path)
        if hit is None:
            self.report("openapi-unknown-path", f"{label}: no path of the description matches {r.path}",
                        at + ("request", "path"), pointer("paths"),
                        "add the path to the description, or correct the documented path")
            return
        tmpl, raw_item = hit
        item, item_ptr = self.desc.resolve(raw_item, pointer("paths", tmpl))
        if not isinstance(item, dict):
            return  # a remote path item: unknown
        op = item.get(r.method.lower())
        if not isinstance(op, dict):
            have = ", ".join(m.upper() for m in METHODS if isinstance(item.get(m), dict)) or "none"
            self.report("openapi-unknown-method", f"{label}: the description has no {r.method} on {tmpl} "
                        f"(it has {have})", at + ("request", "method"), item_ptr,
                        "correct the method, or add the operation to the description")
            return
        op_ptr = f"{item_ptr}/{r.method.lower()}"
        self.params(at, r, item, op, op_ptr, label)
        if r.follow_redirects:
            return  # the documented answer may come from another operation, after the redirects
        for s in resp.statuses:
            obj = self.status(s, at + ("response", "status"), op, op_ptr, label)
            if obj is not None:
                self.body(at + ("response",), resp, obj, label, s)
        for j, f in enumerate(t.failures):
            if f.response.status is None:
                continue
            fat = at + ("failures", j, "response")
            for s in f.response.statuses:
                obj = self.status(s, fat + ("status",), op, op_ptr, label)
                if obj is not None:
                    self.body(fat, f.response, obj, label, s)

    # -- parameters
    def params(self, at, r, item, op, op_ptr, label) -> None:
        declared: dict[str, set[str]] = {}
        for where, ptr in ((item, pointer("paths")), (op, op_ptr)):
            for k, p in enumerate(where.get("parameters") or []):
                p, _ = self.desc.resolve(p, f"{ptr}/parameters/{k}")
                if isinstance(p, dict) and isinstance(p.get("name"), str):
                    declared.setdefault(str(p.get("in")), set()).add(p["name"])
        for name in r.query:
            self.totals.params += 1
            if name not in declared.get("query", set()):
                self.report("openapi-unknown-param", f"{label}: query parameter '{name}' is not declared",
                            at + ("request", "query", name), f"{op_ptr}/parameters",
                            "declare it (in: query), or remove it from the flow", key=True)
        for kind, values in (("form", r.form), ("json", r.json_body)):
            if isinstance(values, dict) and values:
                self.body_params(at, kind, values, op, op_ptr, label)

    def body_params(self, at, kind, values, op, op_ptr, label) -> None:
        rb, rb_ptr = self.desc.resolve(op.get("requestBody"), f"{op_ptr}/requestBody")
        if rb is None and isinstance(op.get("requestBody"), dict):
            return  # remote: unknown
        media = _media(rb.get("content") if isinstance(rb, dict) else None, kind)
        what = "form" if kind == "form" else "JSON"
        if not media:
            self.totals.params += len(values)
            self.report("openapi-unknown-param", f"{label}: the description declares no {what} request body",
                        at + ("request", kind), rb_ptr if rb is not None else op_ptr,
                        f"add requestBody.content with a {what} media type, or correct the flow", key=True)
            return
        props = [properties(self.desc, obj.get("schema") if isinstance(obj, dict) else None,
                            f"{rb_ptr}/content/{_escape(mt)}/schema") for mt, obj in media]
        for name in values:
            self.totals.params += 1
            if not any(p.knows(self.field_name(name)) for p in props):
                self.report("openapi-unknown-param", f"{label}: {what} parameter '{name}' is not in the request "
                            "body's schema", at + ("request", kind, name), self._schema_ptr(media[0], rb_ptr),
                            "add the property to the schema, or remove it from the flow", key=True)

    def field_name(self, name: str) -> str:
        """A field named by an input (``${inputs.login_field}``) is checked by that input's default."""
        return param_name(self.flow, name) if "${" in name and self.flow is not None else name

    # -- responses
    def status(self, status: int, ypath, op, op_ptr, label) -> tuple[dict, str] | None:
        self.totals.statuses += 1
        responses = op.get("responses") if isinstance(op.get("responses"), dict) else {}
        keys = {str(k).upper(): k for k in responses}
        for key in (str(status), f"{str(status)[0]}XX", "DEFAULT"):
            if key in keys:
                obj, ptr = self.desc.resolve(responses[keys[key]], f"{op_ptr}/responses/{_escape(keys[key])}")
                return (obj, ptr) if isinstance(obj, dict) else None
        have = ", ".join(str(k) for k in responses) or "none"
        self.report("openapi-unknown-status", f"{label}: status {status} is not a declared response (declared: {have})",
                    ypath, f"{op_ptr}/responses", "declare the response, or correct the documented status")
        return None

    def body(self, ypath, resp, hit: tuple[dict, str], label: str, status: int) -> None:
        obj, ptr = hit
        fields = _response_fields(resp)
        content = obj.get("content")
        json_media = _media(content, "json")
        if fields:
            self.fields(ypath, fields, json_media, ptr, label, status)
        if resp.error:
            self.error(ypath, resp.error, _media(content, "any"), ptr, label, status)

    def fields(self, ypath, fields, media, ptr, label, status) -> None:
        if not media:
            self.totals.fields += len(fields)
            name, sub = fields[0]
            self.report("openapi-unknown-field", f"{label}: the {status} response documents body fields but the "
                        "description declares no JSON body for it", ypath + sub, ptr,
                        "declare content: application/json with a schema, or remove the fields")
            return
        for name, sub in fields:
            self.totals.fields += 1
            if not any(self._has_field(obj, f"{ptr}/content/{_escape(mt)}/schema", name) for mt, obj in media):
                self.report("openapi-unknown-field", f"{label}: field '{name}' of the {status} response is not in "
                            "its schema", ypath + sub, self._schema_ptr(media[0], ptr),
                            "add the property to the response schema, or correct the field name",
                            key=sub[0] in ("body", "capture"))

    def _schema_ptr(self, media: tuple[str, Any], ptr: str) -> str:
        mt, obj = media
        at = f"{ptr}/content/{_escape(mt)}/schema"
        return self.desc.resolve(obj.get("schema") if isinstance(obj, dict) else None, at)[1]

    def _has_field(self, media_obj: Any, ptr: str, dotted: str) -> bool:
        schema = media_obj.get("schema") if isinstance(media_obj, dict) else None
        for part in dotted.split("."):
            props = properties(self.desc, schema, ptr)
            if props.open or not props.names:
                return True
            if part not in props.names:
                return False
            schema, ptr = props.names[part]
        return True

    def error(self, ypath, code, media, ptr, label, status) -> None:
        self.totals.errors += 1
        listed: list[tuple[set, str]] = []
        for mt, obj in media:
            schema = obj.get("schema") if isinstance(obj, dict) else None
            props = properties(self.desc, schema, f"{ptr}/content/{_escape(mt)}/schema")
            if "error" not in props.names:
                continue
            values, vptr = enum_values(self.desc, *props.names["error"])
            if values is None:
                return  # any error code is allowed there
            listed.append((values, vptr))
        if listed and not any(code in v for v, _ in listed):
            values, vptr = listed[0]
            self.report("openapi-unknown-error", f"{label}: error '{code}' of the {status} response is not among "
                        f"the description's error codes ({', '.join(sorted(values)) or 'none'})",
                        ypath + ("error",), vptr, "add the code to the enum, or correct the documented error")


def check_flows(flows: Iterable[Flow], desc: Description, actors: Iterable[str] = ()) -> tuple[list[Diagnostic], Totals]:
    """Compare the flows' HTTP steps with the description; findings carry FILE:LINE:COL and a pointer."""
    only = set(actors)
    found: list[Diagnostic] = []
    totals = Totals()
    for flow in flows:
        checker = _Checker(desc, flow)
        for i, t in enumerate(flow.transitions):
            if t.request is None or (only and t.receiver not in only):
                continue
            checker.transition(i, t)
        found += checker.found
        for name in vars(totals):
            setattr(totals, name, getattr(totals, name) + getattr(checker.totals, name))
    return found, totals


def iter_summary(desc: Description, totals: Totals) -> Iterator[str]:
    yield (f"against {desc.source}: {totals.requests} requests, {totals.statuses} statuses, "
           f"{totals.fields} response fields, {totals.params} parameters, {totals.errors} error codes compared")
    if desc.remote_refs:
        yield f"{len(desc.remote_refs)} remote $ref not followed (what they describe was not checked)"
