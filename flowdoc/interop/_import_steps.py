"""Arazzo steps → flowdoc requests and responses (the reverse of :mod:`._steps`).

Runtime expressions become ``${...}`` references, criteria become the documented response
(status, error, fields, exact values, headers), outputs become captures. What has no flowdoc
counterpart becomes a ``TODO(arazzo)`` note for the reader, never a silent loss.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ._expr import regex_unliteral, unpointer

TODO = "TODO(arazzo)"
FORM = "application/x-www-form-urlencoded"

_WHOLE = re.compile(r"^\$(?:inputs\.([A-Za-z_][A-Za-z0-9_-]*)|steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_.-]+))$")
_EMBED = re.compile(r"\{(\$[^{}]+)\}")
_STATUS = re.compile(r"^\s*\$statusCode\s*==\s*(\d{3})\s*$")
_STATUSES = re.compile(r"^\^\(\?:(\d{3}(?:\|\d{3})*)\)\$$|^\^\((\d{3}(?:\|\d{3})*)\)\$$")
_FIELD = re.compile(r"^\$\[\?\(?@((?:\.[A-Za-z_][A-Za-z0-9_]*|\['(?:[^'\\]|\\.)*'\])+)\)?\]$")
_MEMBER = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\['((?:[^'\\]|\\.)*)'\]")
_SIMPLE_EQ = re.compile(r"^\s*\$response\.body#(/\S*)\s*==\s*(.+?)\s*$")
_HEADER_PRESENT = re.compile(r"^\s*\$response\.header\.([A-Za-z0-9_-]+)\s*!=\s*null\s*$")
_WWW_ERROR = re.compile(r'^\(\?:\^\|\[\\s,\]\)error="\?(.+)"\?\(\?:\$\|\[\\s,\]\)$')
_CI_LETTER = re.compile(r"\[([A-Z])([a-z])\]")


def slug(text: str, fallback: str = "step") -> str:
    """An id a flow accepts (``^[A-Za-z_][A-Za-z0-9_-]*$``, at most 80 characters)."""
    s = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_-")[:80]
    if not s or not (s[0].isalpha() or s[0] == "_"):
        s = (fallback + "_" + s)[:80] if s else fallback
    return s


@dataclass
class ImportCtx:
    inputs: dict[str, dict] = field(default_factory=dict)  # declared by the workflows
    used_inputs: set[str] = field(default_factory=set)
    captures: dict[str, set[str]] = field(default_factory=dict)  # transition id → capture names so far
    todos: list[str] = field(default_factory=list)

    def todo(self, where: str, text: str) -> str:
        self.todos.append(f"{where}: {text}")
        return f"{TODO}: {text}".replace("${", "$${")

    # ------------------------------------------------------------ values
    def value(self, v: Any, where: str) -> Any:
        if isinstance(v, dict):
            return {k: self.value(x, where) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x, where) for x in v]
        if not isinstance(v, str):
            return v
        if v.startswith("$"):
            return self._expr(v, where)
        out, last = [], 0
        for m in _EMBED.finditer(v):
            out.append(v[last:m.start()].replace("${", "$${"))
            ref = self._expr(m.group(1), where)
            out.append(ref if ref.startswith("${") else m.group(0))
            last = m.end()
        out.append(v[last:].replace("${", "$${"))
        return "".join(out)

    def _expr(self, expr: str, where: str) -> str:
        m = _WHOLE.match(expr)
        if m and m.group(1):
            self.used_inputs.add(m.group(1))
            return "${inputs." + m.group(1) + "}"
        if m:
            step, out = slug(m.group(2)), m.group(3)
            if out in self.captures.get(step, set()):
                return "${steps." + step + "." + out + "}"
        return self.todo(where, f"the value {expr} has no flowdoc counterpart here")


# ---------------------------------------------------------------- requests

def request(step: dict, method: str, path: str, ctx: ImportCtx, where: str) -> dict:
    req: dict[str, Any] = {"method": method.upper(), "path": path}
    parts: dict[str, dict] = {"params": {}, "query": {}, "headers": {}}
    for p in step.get("parameters") or []:
        if not isinstance(p, dict) or "reference" in p:
            ctx.todo(where, f"parameter {json.dumps(p)[:120]} not imported")
        else:
            _parameter(p, req, parts, ctx, where)
    _security(step, req, ctx, where)
    for k, v in parts.items():
        if v:
            req[k] = v
    _body(step, req, ctx, where)
    return req


def _parameter(p: dict, req: dict, parts: dict[str, dict], ctx: ImportCtx, where: str) -> None:
    name, loc, val = str(p.get("name")), p.get("in"), ctx.value(p.get("value"), where)
    lname = name.lower()
    if loc == "header" and lname == "authorization" and isinstance(val, str) and val.lower().startswith("bearer "):
        req.update({"auth": "bearer", "token": val[7:]})
    elif loc == "header" and lname == "content-type":
        return
    elif loc == "header":
        parts["headers"][name] = val
    elif loc == "cookie":
        have = parts["headers"].get("Cookie")
        parts["headers"]["Cookie"] = (f"{have}; " if have else "") + f"{name}={val}"
    elif loc == "path":
        parts["params"][name] = val
    else:
        parts["query"][name] = val


def _security(step: dict, req: dict, ctx: ImportCtx, where: str) -> None:
    for sec in step.get("x-security") or []:
        scheme = sec.get("scheme") if isinstance(sec, dict) else None
        values = sec.get("values") if isinstance(sec, dict) else None
        if not isinstance(scheme, dict) or not isinstance(values, dict):
            ctx.todo(where, "an x-security entry without an inline scheme is not imported")
            continue
        kind = (str(scheme.get("type")), str(scheme.get("scheme", "")).lower())
        if kind == ("http", "basic"):
            req["auth"] = "client_secret_basic"
            cid, secret = ctx.value(values.get("username"), where), ctx.value(values.get("password"), where)
            if cid != "${inputs.client_id}":
                req["client_id"] = cid
            if secret != "${inputs.client_secret}":
                req["client_secret"] = secret
        elif kind == ("http", "bearer"):
            req.update({"auth": "bearer", "token": ctx.value(values.get("token"), where)})
        else:
            ctx.todo(where, f"x-security scheme {kind[0]} {kind[1]} is not imported; add it to the request")


def _body(step: dict, req: dict, ctx: ImportCtx, where: str) -> None:
    body = step.get("requestBody")
    if not isinstance(body, dict) or "payload" not in body:
        return
    if req["method"] in ("GET", "HEAD"):
        ctx.todo(where, f"a {req['method']} request has no body; the requestBody was not imported")
        return
    ctype = str(body.get("contentType") or "application/json").split(";")[0].strip().lower()
    payload = ctx.value(body["payload"], where)
    if ctype == FORM and isinstance(payload, dict):
        req["form"] = payload
    elif ctype.endswith("json"):
        req["json"] = payload
    else:
        ctx.todo(where, f"a {ctype} request body is not imported")


# ---------------------------------------------------------------- responses

def _escape(v: Any) -> Any:
    """A literal from the Arazzo file, as flow text (``${`` is written ``$${``)."""
    if isinstance(v, str):
        return v.replace("${", "$${")
    if isinstance(v, dict):
        return {(_escape(k) if isinstance(k, str) else k): _escape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_escape(x) for x in v]
    return v


def response(step: dict, ctx: ImportCtx, where: str, *, failure: bool = False) -> dict:
    resp: dict[str, Any] = {}
    for c in step.get("successCriteria") or []:
        if not isinstance(c, dict) or not _criterion(c, resp):
            ctx.todo(where, f"success criterion {json.dumps(c, ensure_ascii=False)[:160]} not imported")
    resp = {k: (v if k == "status" else _escape(v)) for k, v in resp.items()}
    if "status" not in resp:
        resp["status"] = 200 if not failure else 400
        ctx.todo(where, f"no status in the criteria; {resp['status']} is a guess")
    if not failure:
        caps = _captures(step, ctx, where)
        if caps:
            resp["capture"] = caps
    return resp


def _criterion(c: dict, resp: dict) -> bool:
    cond, ctxt, kind = str(c.get("condition", "")), c.get("context"), c.get("type", "simple")
    if isinstance(kind, dict):
        kind = kind.get("type")
    if kind == "simple" or kind is None:
        return _simple(cond, resp)
    if kind == "jsonpath" and ctxt == "$response.body":
        m = _FIELD.match(cond)
        if m:
            parts = [a or b.replace("\\'", "'").replace("\\\\", "\\") for a, b in _MEMBER.findall(m.group(1))]
            resp.setdefault("fields", []).append(".".join(parts))
            return True
        return False
    if kind == "regex" and isinstance(ctxt, str):
        return _regex(ctxt, cond, resp)
    return False


def _simple(cond: str, resp: dict) -> bool:
    m = _STATUS.match(cond)
    if m:
        resp["status"] = int(m.group(1))
        return True
    m = _HEADER_PRESENT.match(cond)
    if m:
        resp.setdefault("headers", {})[m.group(1)] = None
        return True
    m = _SIMPLE_EQ.match(cond)
    if m:
        lit = _literal(m.group(2))
        if lit is not _NO:
            resp.setdefault("body", {})[".".join(unpointer(m.group(1)))] = lit
            return True
    return False


_NO = object()


def _literal(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return _NO


def _regex(ctxt: str, cond: str, resp: dict) -> bool:
    if ctxt == "$statusCode":
        m = _STATUSES.match(cond)
        if m:
            codes = [int(x) for x in (m.group(1) or m.group(2)).split("|")]
            resp["status"] = codes if len(codes) > 1 else codes[0]
            return True
        return False
    if ctxt.startswith("$response.body#"):
        lit = regex_unliteral(cond)
        if lit is None:
            return False
        ptr = ctxt[len("$response.body#"):]
        if ptr == "/error":
            resp["error"] = lit
        else:
            resp.setdefault("body", {})[".".join(unpointer(ptr))] = lit
        return True
    if ctxt.startswith("$response.header."):
        return _header_regex(ctxt[len("$response.header."):], cond, resp)
    return False


def _header_regex(name: str, cond: str, resp: dict) -> bool:
    if name.lower() == "www-authenticate":
        m = _WWW_ERROR.match(cond)
        if m and regex_unliteral("^" + m.group(1) + "$") is not None:
            resp["error"] = regex_unliteral("^" + m.group(1) + "$")
            return True
    if name.lower() == "content-type" and cond.startswith("^") and cond.endswith("(?:;|$)"):
        media = regex_unliteral("^" + _CI_LETTER.sub(lambda m: m.group(2), cond[1:-7]) + "$")
        if media is not None:
            resp["content_type"] = media
            return True
    lit = regex_unliteral(cond)
    if lit is None:
        return False
    resp.setdefault("headers", {})[name] = lit
    return True


_RESERVED = ("body", "headers", "location", "cookies", "form", "status")


def _captures(step: dict, ctx: ImportCtx, where: str) -> dict:
    caps: dict[str, str] = {}
    for name, expr in (step.get("outputs") or {}).items():
        src = _capture_source(str(expr))
        if src is None:
            ctx.todo(where, f"output '{name}' = {expr} has no flowdoc capture")
            continue
        cname = slug(str(name), "value")
        if cname in _RESERVED:
            cname += "_value"
        caps[cname] = src
    return caps


def _capture_source(expr: str) -> str | None:
    if expr == "$statusCode":
        return "status"
    if expr.startswith("$response.body#"):
        parts = unpointer(expr[len("$response.body#"):])
        if all(re.fullmatch(r"[A-Za-z0-9_-]+", p) for p in parts):
            return ".".join(["body", *parts])
        return None
    m = re.fullmatch(r"\$response\.header\.([A-Za-z0-9_-]+)", expr)
    return f"headers.{m.group(1)}" if m else None
