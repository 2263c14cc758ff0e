"""Code a developer can paste: one request of a proof file as HTTP, curl, Python (httpx) and
JavaScript (fetch).

The request is the one verify sent (:class:`~flowdoc.proofs.ProofRequest`: method, URL and query,
headers, client authentication, form or JSON body), already redacted. Each placeholder in it
(``«client_secret»``, ``«access_token#1»``, ``«cookie:_session#1»``) becomes an environment
variable: an input's own (``FLOWDOC_CLIENT_SECRET``, the Inputs table's "Environment variable"
column), or ``FLOWDOC_`` and the placeholder's name for a value an earlier step gave
(``FLOWDOC_ACCESS_TOKEN``, ``FLOWDOC_CODE``, ``FLOWDOC_COOKIE_SESSION``). One scheme in every
language: ``$FLOWDOC_X`` (shell), ``os.environ["FLOWDOC_X"]``, ``process.env.FLOWDOC_X``.

The text of a proof is hostile: every literal is quoted for its language here (single quotes in
the shell, ``repr`` in Python, JSON in JavaScript), and the caller escapes the whole for HTML.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["LANGUAGES", "env_names", "request_samples"]

#: (tab label, language of the code block)
LANGUAGES = (("HTTP", "http"), ("curl", "bash"), ("Python", "python"), ("JavaScript", "javascript"))

_PLACEHOLDER = re.compile(r"«([^«»]{1,200})»")
_NUMBERED = re.compile(r"^(.*?)#(\d+)$")
_SKIPPED_HEADERS = frozenset({"accept", "content-type", "content-length", "host", "user-agent"})

Var = Callable[[str], str]


def env_names(placeholders: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, str]:
    """placeholder → environment variable, for every placeholder of a proof file."""
    out: dict[str, str] = {}
    for ph, info in placeholders.items():
        name = getattr(info, "name", None) or ph.strip("«»")
        kind = getattr(info, "kind", "value")
        if kind == "input" and name in inputs:
            out[ph] = _identifier(inputs[name].env_var)
            continue
        m = _NUMBERED.match(ph.strip("«»"))
        base, n = (m.group(1), int(m.group(2))) if m else (name, 1)
        word = re.sub(r"[^A-Za-z0-9]+", "_", base).strip("_").upper() or "VALUE"
        out[ph] = f"FLOWDOC_{word}" + (f"_{n}" if n > 1 else "")
    return out


def _identifier(name: str) -> str:
    """A name every language takes as a variable: letters, digits and ``_``, not first a digit."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)[:100] or "VALUE"
    return "_" + name if name[0].isdigit() else name


def _parts(text: str) -> list[tuple[bool, str]]:
    """(is_placeholder, text) pieces of a string."""
    out: list[tuple[bool, str]] = []
    last = 0
    for m in _PLACEHOLDER.finditer(text):
        if m.start() > last:
            out.append((False, text[last:m.start()]))
        out.append((True, m.group(0)))
        last = m.end()
    if last < len(text) or not out:
        out.append((False, text[last:]))
    return out


# ------------------------------------------------------------------ quoting per language


def _sh(text: str, var: Var) -> str:
    pieces = [f'"${var(p)}"' if is_ph else "'" + p.replace("'", "'\\''") + "'"
              for is_ph, p in _parts(text) if is_ph or p]
    return "".join(pieces) or "''"


def _py_str(text: str, var: Var) -> str:
    pieces = [f'os.environ["{var(p)}"]' if is_ph else repr(p) for is_ph, p in _parts(text) if is_ph or p]
    return " + ".join(pieces) or "''"


def _js_str(text: str, var: Var) -> str:
    pieces = [f"process.env.{var(p)}" if is_ph else json.dumps(p) for is_ph, p in _parts(text) if is_ph or p]
    return " + ".join(pieces) or '""'


def _py_pairs(pairs: list[tuple[str, str]], var: Var) -> str:
    """Headers: a dict, or a list of pairs when a name comes more than once (httpx takes both)."""
    if len({k.lower() for k, _v in pairs}) == len(pairs):
        return "{" + ", ".join(f"{_py_str(k, var)}: {_py_str(v, var)}" for k, v in pairs) + "}"
    return "[" + ", ".join(f"({_py_str(k, var)}, {_py_str(v, var)})" for k, v in pairs) + "]"


def _py_value(value: Any, var: Var, depth: int = 0) -> str:
    if depth > 32:
        return "None"
    if isinstance(value, str):
        return _py_str(value, var)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py_str(str(k), var)}: {_py_value(v, var, depth + 1)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_py_value(v, var, depth + 1) for v in value) + "]"
    return repr(value) if isinstance(value, (bool, int, float)) or value is None else repr(str(value))


def _js_value(value: Any, var: Var, depth: int = 0) -> str:
    if depth > 32:
        return "null"
    if isinstance(value, str):
        return _js_str(value, var)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {_js_value(v, var, depth + 1)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_js_value(v, var, depth + 1) for v in value) + "]"
    return json.dumps(value)


# ------------------------------------------------------------------ the request, in parts


def _headers(req: Any) -> list[tuple[str, str]]:
    """The headers a developer sends: not those every client sets itself, nor Authorization when
    the client authenticates with Basic (given as the tool's own option)."""
    out = []
    for name, value in req.headers:
        low = name.lower()
        if low in _SKIPPED_HEADERS or (low == "authorization" and req.auth is not None):
            continue
        out.append((name, value))
    return out


def _body(req: Any) -> tuple[str, Any]:
    body = req.body
    if body is None:
        return "", None
    if body.kind == "form" and body.form is not None:
        return "form", [(k, v) for k, v in body.form]
    if body.kind == "json":
        return "json", body.json_
    return "text", body.text or ""


def http_sample(req: Any) -> str:
    """The request as it went on the wire (placeholders as they are)."""
    url = req.url
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    lines = [f"{req.method} /{path if slash else ''} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in req.headers]
    kind, body = _body(req)
    if kind == "form":
        lines += ["", "&".join(f"{k}={v}" for k, v in body)]
    elif kind == "json":
        lines += ["", json.dumps(body, indent=2, ensure_ascii=False)]
    elif kind == "text":
        lines += ["", body]
    return "\n".join(lines)


def curl_sample(req: Any, var: Var) -> str:
    args = ["curl -sS -i"]
    if req.method != "GET":
        args.append(f"-X {req.method}")
    if req.follow_redirects:
        args.append("-L -b ''")  # follow, sending the cookies the redirects set (as verify did)
    if req.query and req.method == "GET" and req.body is None:
        args.append(f"-G {_sh(req.base, var)}")
        args += [f"--data-urlencode {_sh(f'{k}={v}', var)}" for k, v in req.query]
    else:
        args.append(_sh(req.url, var))
    if req.auth is not None:
        args.append(f"-u {_sh(req.auth.username + ':' + req.auth.password, var)}")
    args += [f"-H {_sh(f'{k}: {v}', var)}" for k, v in _headers(req)]
    kind, body = _body(req)
    if kind == "form":
        args += [f"--data-urlencode {_sh(f'{k}={v}', var)}" for k, v in body]
    elif kind == "json":
        args += ["-H 'Content-Type: application/json'",
                 f"--data-binary {_sh(json.dumps(body, ensure_ascii=False), var)}"]
    elif kind == "text":
        args.append(f"--data-binary {_sh(body, var)}")
    return " \\\n  ".join(args)


def python_sample(req: Any, var: Var) -> str:
    lines = ["import os", "", "import httpx", "", "response = httpx.request(",
             f"    {req.method!r},", f"    {_py_str(req.base, var)},"]
    if req.query:
        lines.append(f"    params=[{', '.join(f'({_py_str(k, var)}, {_py_str(v, var)})' for k, v in req.query)}],")
    if req.auth is not None:
        lines.append(f"    auth=({_py_str(req.auth.username, var)}, {_py_str(req.auth.password, var)}),")
    headers = _headers(req)
    if headers:
        lines.append(f"    headers={_py_pairs(headers, var)},")
    kind, body = _body(req)
    if kind == "form":
        grouped: dict[str, list[str]] = {}
        for k, v in body:
            grouped.setdefault(k, []).append(v)
        lines.append("    data={" + ", ".join(
            f"{_py_str(k, var)}: " + (_py_str(vs[0], var) if len(vs) == 1 else
                                      "[" + ", ".join(_py_str(v, var) for v in vs) + "]")
            for k, vs in grouped.items()) + "},")
    elif kind == "json":
        lines.append(f"    json={_py_value(body, var)},")
    elif kind == "text":
        lines.append(f"    content={_py_str(body, var)},")
    if req.follow_redirects:
        lines.append("    follow_redirects=True,")
    lines += [")", "print(response.status_code)", "print(response.text)"]
    return "\n".join(lines)


def js_sample(req: Any, var: Var) -> str:
    url = _js_str(req.base, var)
    if req.query:
        query = ", ".join(f"[{_js_str(k, var)}, {_js_str(v, var)}]" for k, v in req.query)
        url = f'{url} + "?" + new URLSearchParams([{query}])'
    pairs: list[tuple[str, str]] = [(json.dumps(k), _js_str(v, var)) for k, v in _headers(req)]
    if req.auth is not None:
        cred = _js_str(req.auth.username + ":" + req.auth.password, var)
        pairs.insert(0, ('"Authorization"', f'"Basic " + btoa({cred})'))
    kind, body = _body(req)
    opts = [f"  method: {json.dumps(req.method)},"]
    if kind == "json":
        pairs.append(('"Content-Type"', '"application/json"'))
    if pairs and len({k.lower() for k, _v in pairs}) == len(pairs):
        opts.append("  headers: {" + ", ".join(f"{k}: {v}" for k, v in pairs) + "},")
    elif pairs:  # a header sent more than once: as pairs, which keep every one
        opts.append("  headers: [" + ", ".join(f"[{k}, {v}]" for k, v in pairs) + "],")
    if kind == "form":
        opts.append(f"  body: new URLSearchParams([{', '.join(f'[{_js_str(k, var)}, {_js_str(v, var)}]' for k, v in body)}]),")
    elif kind == "json":
        opts.append(f"  body: JSON.stringify({_js_value(body, var)}),")
    elif kind == "text":
        opts.append(f"  body: {_js_str(body, var)},")
    head = []
    if req.follow_redirects:  # fetch's default; a browser sends the cookies the redirects set, Node's fetch does not
        head.append("// follows redirects: in a browser with the cookies they set (Node's fetch keeps none)")
    else:
        opts.append('  redirect: "manual",')
    return "\n".join([*head, f"const response = await fetch({url}, {{", *opts, "});",
                      "console.log(response.status, await response.text());"])


def request_samples(req: Any, var: Var) -> list[tuple[str, str, str]]:
    """(tab label, code language, code) for HTTP, curl, Python and JavaScript."""
    codes = [http_sample(req), curl_sample(req, var), python_sample(req, var), js_sample(req, var)]
    return [(label, lang, code) for (label, lang), code in zip(LANGUAGES, codes, strict=True)]
