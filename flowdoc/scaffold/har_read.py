"""Reading a browser recording (HAR 1.2): the requests worth a step, and every secret it holds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .kinds import ScaffoldError
from .secrets import SecretSet

__all__ = ["Entry", "Recording", "read_har", "MAX_BYTES", "MAX_ENTRIES"]

MAX_BYTES = 64 * 1024 * 1024
MAX_ENTRIES = 500
_STATIC = {"stylesheet", "script", "image", "font", "media", "manifest", "ping", "websocket", "texttrack",
           "eventsource", "preflight", "other-static"}
_STATIC_EXT = (".css", ".js", ".mjs", ".map", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".webp", ".woff",
               ".woff2", ".ttf")
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}


@dataclass
class Entry:
    method: str
    url: str
    status: int
    req_headers: list[tuple[str, str]]
    resp_headers: list[tuple[str, str]]
    query: list[tuple[str, str]]
    form: list[tuple[str, str]] | None
    json_body: dict | None
    resp_mime: str
    resp_text: str
    location: str | None

    @property
    def origin(self) -> str:
        p = urlsplit(self.url)
        host = p.hostname or ""
        return f"{p.scheme}://{host}" + (f":{p.port}" if p.port else "")

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    def header(self, name: str, which: str = "req") -> list[str]:
        hs = self.req_headers if which == "req" else self.resp_headers
        return [v for k, v in hs if k.lower() == name.lower()]


@dataclass
class Recording:
    entries: list[Entry]
    secrets: SecretSet
    skipped: int = 0


# ------------------------------------------------------------------ reading


def _pairs(items: Any) -> list[tuple[str, str]]:
    out = []
    for it in items if isinstance(items, list) else []:
        if isinstance(it, dict) and isinstance(it.get("name"), str):
            out.append((it["name"], str(it.get("value") if it.get("value") is not None else "")))
    return out


def _obj(d: dict[str, Any], key: str) -> dict[str, Any]:
    """The object at ``d[key]``; an empty one when it is missing or not an object."""
    v = d.get(key)
    return v if isinstance(v, dict) else {}


def _text(d: dict[str, Any], key: str) -> str:
    """The string at ``d[key]``; an empty one when it is missing or not a string."""
    v = d.get(key)
    return v if isinstance(v, str) else ""


def _wanted(e: dict, url: str, status: int, method: str) -> bool:
    if method not in _METHODS or urlsplit(url).scheme not in ("http", "https") or status <= 0:
        return False
    if str(e.get("_resourceType", "")).lower() in _STATIC:
        return False
    return not urlsplit(url).path.lower().endswith(_STATIC_EXT)


def _body(req: dict) -> tuple[list[tuple[str, str]] | None, dict | None]:
    post = _obj(req, "postData")
    mime = str(post.get("mimeType", "")).lower()
    text = _text(post, "text")
    if "json" in mime:
        try:
            value = json.loads(text) if text else {}
        except (ValueError, RecursionError):
            value = {}
        return None, value if isinstance(value, dict) else {}
    params = _pairs(post.get("params"))
    if not params and text and "form" in mime:
        params = parse_qsl(text, keep_blank_values=True)
    return (params or None), None


def _entry(e: dict) -> Entry | None:
    req = _obj(e, "request")
    resp = _obj(e, "response")
    url, method = str(req.get("url", "")), str(req.get("method", "")).upper()
    got = resp.get("status")
    status = got if isinstance(got, int) else 0
    if not _wanted(e, url, status, method):
        return None
    form, js = _body(req)
    content = _obj(resp, "content")
    resp_headers = _pairs(resp.get("headers"))
    loc = next((v for k, v in resp_headers if k.lower() == "location"), None) or resp.get("redirectURL") or None
    return Entry(method, url, status, _pairs(req.get("headers")), resp_headers,
                 parse_qsl(urlsplit(url).query, keep_blank_values=True), form, js,
                 str(content.get("mimeType", "")).lower(),
                 _text(content, "text") if content.get("encoding") != "base64" else "", str(loc) if loc else None)


def _collect(raw: dict, entry: Entry | None, secrets: SecretSet) -> None:
    """Every secret of an entry (kept or not): requests left out may carry secrets too."""
    req = _obj(raw, "request")
    resp = _obj(raw, "response")
    secrets.url(str(req.get("url", "")))
    for src in (req, resp):
        for name, value in _pairs(src.get("headers")):
            secrets.header(name, value)
        for _name, value in _pairs(src.get("cookies")):
            secrets.add(value)
    post = _obj(req, "postData")
    secrets.pairs(_pairs(post.get("params")))
    text = _text(post, "text")
    if text:
        secrets.json_text(text) if text.lstrip()[:1] in "{[" else secrets.pairs(parse_qsl(text[:1_000_000]))
    content = _obj(resp, "content")
    if "json" in str(content.get("mimeType", "")).lower() and isinstance(content.get("text"), str):
        secrets.json_text(content["text"])
    if isinstance(resp.get("redirectURL"), str):
        secrets.url(resp["redirectURL"])


def read_har(path: str | Path) -> Recording:
    p = Path(path)
    try:
        if p.stat().st_size > MAX_BYTES:
            raise ScaffoldError(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MiB")
        data = json.loads(p.read_bytes().decode("utf-8-sig"))
    except OSError as exc:
        raise ScaffoldError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, RecursionError):
        raise ScaffoldError(f"{path} is not a HAR file (not JSON); save it from the browser with 'Save all as HAR'") from None
    log = data.get("log") if isinstance(data, dict) else None
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise ScaffoldError(f"{path} is not a HAR file (no log.entries)")
    secrets, skipped = SecretSet(), 0
    entries: list[Entry] = []
    for raw in log["entries"]:
        if not isinstance(raw, dict):
            continue
        entry = _entry(raw)
        _collect(raw, entry, secrets)
        if entry is None:
            skipped += 1
        elif len(entries) < MAX_ENTRIES:
            entries.append(entry)
    if not entries:
        raise ScaffoldError(f"{path} holds no page, form or API request to turn into steps")
    return Recording(entries, secrets, skipped)
