"""A flow skeleton from a browser recording of a login (HAR 1.2).

* an actor per host (the authorization server, an API, the app), guessed from the paths it served;
* a step per request, in order (static assets, preflights and failed requests are left out);
* a redirect becomes ``redirect:`` plus a ``location`` capture that the next step requests (``url:``);
  a POST after an HTML page submits that page's form (``submit_form:``);
* cookies: ``Set-Cookie`` is documented and captured, a later ``Cookie`` header uses the capture;
* secrets (passwords, codes, tokens, client secrets, cookies, CSRF fields) become secret inputs,
  captures or generated values (``state``, ``nonce``, PKCE): no secret value is written, and the
  text is scanned for every secret of the recording (plain, URL-encoded, base64) before it is.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import yaml

from ..model.schema import SCHEMA_ID
from .kinds import ScaffoldError, check_id
from .har_read import Entry, Recording, read_har
from .secrets import SecretSet, is_secret_name, looks_random

__all__ = ["har_to_flow", "read_har", "Recording"]

_HIDDEN = re.compile(r"(?:csrf|xsrf|authenticity|_token$|^token$|nonce|^state$|^sid$)", re.I)
_SAFE_LITERAL = re.compile(r"^[A-Za-z0-9 _.:/@+,=*-]{0,64}$")
_USERNAME = {"username", "user", "login", "email", "user_name", "userid", "user_id"}
_PASSWORD = {"password", "passwd", "pwd", "pass", "passphrase"}


# ------------------------------------------------------------------ building


def _slug(text: str, limit: int = 40) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    return (s or "root")[:limit].rstrip("_") or "root"


def _variable(seg: str, secrets: SecretSet) -> bool:
    if not seg:
        return False
    if seg.isdigit() or seg in secrets:
        return True
    letters, digits = any(c.isalpha() for c in seg), any(c.isdigit() for c in seg)
    mixed_case = any(c.isupper() for c in seg) and any(c.islower() for c in seg)
    return (len(seg) >= 10 and letters and digits) or (len(seg) >= 16 and mixed_case) or looks_random(seg)


def generalize(path: str, secrets: SecretSet) -> tuple[str, bool]:
    """The documented path: random or secret segments become {id}, {id2}, ... (and whether any did)."""
    out, n = [], 0
    for seg in path.split("/"):
        if _variable(seg, secrets):
            n += 1
            out.append("{id}" if n == 1 else f"{{id{n}}}")
        else:
            out.append(seg if re.fullmatch(r"[A-Za-z0-9._~!$&'()*+,;=:@%-]*", seg) else "{id}")
    return "/".join(out) or "/", n > 0


@dataclass
class Actor:
    id: str
    name: str
    kind: str
    input: str
    paths: set[str] = field(default_factory=set)


def _roles(rec: Recording) -> dict[str, Actor]:
    by_origin: dict[str, set[str]] = {}
    for e in rec.entries:
        by_origin.setdefault(e.origin, set()).add(e.path.lower())
    actors: dict[str, Actor] = {}
    used: set[str] = {"browser"}
    for origin, paths in by_origin.items():
        joined = " ".join(paths)
        if re.search(r"/(?:token|authorize|auth|oauth2?|interaction|\.well-known|login/oauth)\b", joined) and \
                not any(p.startswith("/callback") for p in paths):
            base = ("auth", "Authorization Server", "authorization-server")
        elif all(p.startswith("/api/") for p in paths):
            base = ("api", "API", "resource-server")
        elif any("/api/" in p for p in paths):
            base = ("gateway", "Gateway", "gateway")
        else:
            host = urlsplit(origin).hostname or "host"
            base = (_slug(host.split(".")[0] if not host[0].isdigit() else "app", 20), "Web App", "client")
        aid, n = base[0], 1
        while aid in used:
            n += 1
            aid = f"{base[0]}{n}"
        used.add(aid)
        actors[origin] = Actor(aid, base[1] if n == 1 else f"{base[1]} {n}", base[2],
                               "issuer" if aid == "auth" else f"{aid}_url", paths)
    return actors


_CAPTURE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")


class _Builder:
    def __init__(self, rec: Recording, actors: dict[str, Actor]):
        self.rec, self.actors = rec, actors
        self.inputs: dict[str, dict] = {a.input: {"description": f"Base URL of the {a.name}", "example": o}
                                        for o, a in actors.items()}
        self.generate: dict[str, dict] = {}
        self.transitions: list[dict] = []
        self.ids: set[str] = set()
        self.cookie_source: dict[str, tuple[dict, str]] = {}  # cookie -> (setting step, its id)
        self.json_seen: dict[str, tuple[dict, str, str]] = {}  # value -> (step, step id, field)
        self.redirect_uris: set[str] = set()

    # -- values
    def input(self, name: str, description: str, *, secret: bool = False, example: str | None = None,
              default: str | None = None) -> str:
        name = _slug(name, 60)
        if name[0].isdigit():
            name = "v_" + name
        spec = self.inputs.setdefault(name, {"description": description})
        if secret:
            spec["secret"] = True
        if example is not None and not secret and "example" not in spec and self._safe(example, 200):
            spec["example"] = example
        if default is not None and not secret and "default" not in spec and self._safe(default):
            spec["default"] = default
        return f"${{inputs.{name}}}"

    def _safe(self, value: str, limit: int = 64) -> bool:
        return (value not in self.rec.secrets and len(value) <= limit and not looks_random(value)
                and bool(re.fullmatch(r"[A-Za-z0-9 _.:/@+,=*-]*", value)))

    def gen(self, name: str, kind: str) -> None:
        self.generate.setdefault(name, {"kind": kind} if kind == "pkce" else {"kind": kind, "bytes": 16})

    def capture_ref(self, value: str) -> str | None:
        hit = self.json_seen.get(value)
        if hit is None:
            return None
        step, sid, fname = hit
        step["response"].setdefault("capture", {})[fname] = f"body.{fname}"
        return f"${{steps.{sid}.{fname}}}"

    def value(self, name: str, value: str) -> Any:  # noqa: C901 - one mapping table
        low = name.lower()
        if low in ("state", "nonce"):
            self.gen(low, "random")
            return f"${{{low}}}"
        if low in ("code_challenge", "code_verifier"):
            self.gen("pkce", "pkce")
            return "${pkce.challenge}" if low == "code_challenge" else "${pkce.verifier}"
        if low == "code_challenge_method" and value in ("S256", "plain"):
            return value
        origin = next((a for o, a in self.actors.items() if value.rstrip("/") == o), None)
        if origin is not None:
            return f"${{inputs.{origin.input}}}"
        if low in ("client_id", "scope"):
            return self.input(low, "Client id" if low == "client_id" else "Scopes the client asks for",
                              example=value if low == "client_id" else None, default=value if low == "scope" else None)
        if low == "redirect_uri":
            self.redirect_uris.add(value)
            return self.input("redirect_uri", "Registered callback URL", example=value)
        if low in _USERNAME:
            return self.input("username", "A test user's login name")
        if low in _PASSWORD:
            return self.input("password", "That user's password", secret=True)
        ref = self.capture_ref(value)
        if ref:
            return ref
        if is_secret_name(name) or value in self.rec.secrets or looks_random(value):
            return self.input(name, f"TODO: where the value of '{name}' comes from", secret=True)
        if _SAFE_LITERAL.match(value) and self._safe(value):
            return value
        return self.input(name, f"Value of '{name}'")

    # -- steps
    def step_id(self, e: Entry, gpath: str) -> str:
        parts = [s for s in gpath.split("/") if s and not s.startswith("{")]
        base = f"{e.method.lower()}_{_slug('_'.join(parts[-3:]) or 'root', 50)}"
        sid, n = base, 1
        while sid in self.ids:
            n += 1
            sid = f"{base}_{n}"
        self.ids.add(sid)
        return sid

    def build(self) -> list[dict]:
        prev: Entry | None = None
        prev_t: dict | None = None
        for k, e in enumerate(self.rec.entries):
            t = self.step(k, e, prev, prev_t)
            self.transitions.append(t)
            prev, prev_t = e, t
        return self.transitions

    def step(self, k: int, e: Entry, prev: Entry | None, prev_t: dict | None) -> dict:
        actor = self.actors[e.origin]
        gpath, variable = generalize(e.path, self.rec.secrets)
        sid = self.step_id(e, gpath)
        req: dict[str, Any] = {"method": e.method, "path": gpath}
        followed = (prev is not None and prev.location is not None and 300 <= prev.status < 400
                    and urljoin(prev.url, prev.location).split("#")[0] == e.url.split("#")[0])
        form_post = (prev is not None and e.method == "POST" and e.form is not None and prev.status == 200
                     and "html" in prev.resp_mime and prev.origin == e.origin)
        title = f"{'Submit the form to' if form_post else 'Follow the redirect to' if followed else 'Request'} {gpath}"
        if followed and prev is not None and prev_t is not None:  # (prev_t is the step of prev)
            secret = any(is_secret_name(n) for n, _ in parse_qsl(urlsplit(e.url).query)) or "#" in (prev.location or "")
            prev_t["response"].setdefault("capture", {})["next_url"] = {"from": "location", "secret": secret}
            req["url"] = f"${{steps.{prev_t['id']}.next_url}}"
            if e.query:
                req["key_params"] = [n for n, _ in e.query][:12]
        elif form_post and prev_t is not None:
            prev_t["response"]["form"] = True
            prev_t["response"].setdefault("capture", {})["page_form"] = {"from": "form", "secret": False}
            req["submit_form"] = f"${{steps.{prev_t['id']}.page_form}}"
        elif variable:
            req["url"] = self.input(f"{sid}_url", f"TODO: the URL of '{sid}' (its path has a variable part)",
                                    secret=True)
        elif e.query:
            req["query"] = {n: self.value(n, v) for n, v in e.query}
        self.body(e, req, form_post)
        self.headers(e, req)
        t = {"id": sid, "from": f"s{k}", "to": f"s{k + 1}", "by": f"browser -> {actor.id}", "title": title,
             "request": req, "response": self.response(e, sid)}
        for value, fname in self.pending_json:
            self.json_seen.setdefault(value, (t, sid, fname))
        for name in self.pending_cookies:
            self.cookie_source[name] = (t, sid)
        self.failures(t, req)
        return t

    def body(self, e: Entry, req: dict, form_post: bool) -> None:
        if e.form is not None:
            pairs = [(n, v) for n, v in e.form if not (form_post and _HIDDEN.search(n))]
            if pairs or not form_post:
                req["form"] = {n: self.value(n, v) for n, v in pairs}
        elif e.json_body is not None and e.method not in ("GET", "HEAD"):
            req["json"] = {str(n): self.json_value(str(n), v) for n, v in list(e.json_body.items())[:30]}

    def json_value(self, name: str, v: Any) -> Any:
        if isinstance(v, str):
            return self.value(name, v)
        if isinstance(v, (bool, int, float)) and not is_secret_name(name):
            return v
        return self.input(name, f"TODO: the value of '{name}'", secret=is_secret_name(name))

    def headers(self, e: Entry, req: dict) -> None:
        for value in e.header("authorization")[:1]:
            scheme, _, cred = value.partition(" ")
            if scheme.lower() == "bearer":
                req["auth"] = "bearer"
                req["token"] = self.capture_ref(cred.strip()) or self.input("access_token", "An access token",
                                                                            secret=True)
            elif scheme.lower() == "basic":
                req["auth"] = "client_secret_basic"
                self.input("client_id", "Client id")
                self.input("client_secret", "The client's secret", secret=True)
        cookies = []
        for header in e.header("cookie"):
            for part in header.split(";"):
                name = part.partition("=")[0].strip()
                if name:
                    cookies.append(f"{name}={self.cookie_ref(name)}")
        if cookies and all(_CAPTURE_NAME.match(c.partition('=')[0]) for c in cookies):
            req.setdefault("headers", {})["Cookie"] = "; ".join(cookies)

    def cookie_ref(self, name: str) -> str:
        src = self.cookie_source.get(name)
        cap = "cookie_" + _slug(name, 40)
        if src is None or not _CAPTURE_NAME.match(name):
            return self.input(cap, f"Value of the {name} cookie", secret=True)
        step, sid = src
        step["response"].setdefault("capture", {})[cap] = f"cookies.{name}"
        return f"${{steps.{sid}.{cap}}}"

    def response(self, e: Entry, sid: str) -> dict:
        resp: dict[str, Any] = {"status": e.status}
        self.pending_json: list[tuple[str, str]] = []
        if e.location and 300 <= e.status < 400:
            resp["redirect"] = self.redirect(e)
        set_cookies = e.header("set-cookie", "resp")
        if set_cookies:
            resp["headers"] = {"Set-Cookie": None}
        if "json" in e.resp_mime and e.resp_text and len(e.resp_text) < 2_000_000:
            try:
                body = json.loads(e.resp_text)
            except (ValueError, RecursionError):
                body = None
            if isinstance(body, dict):
                resp["fields"] = [str(n) for n in body if re.fullmatch(r"[A-Za-z0-9_-]{1,60}", str(n))][:20]
                self.pending_json = [(v, str(n)) for n, v in body.items() if isinstance(v, str) and is_secret_name(str(n))]
        self.pending_cookies = [line.split(";", 1)[0].partition("=")[0].strip() for line in set_cookies
                                if line.split(";", 1)[0].partition("=")[2].strip()]
        return resp

    def redirect(self, e: Entry) -> dict:
        target = urljoin(e.url, e.location or "")
        parts = urlsplit(target)
        origin = f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
        gpath, _ = generalize(parts.path or "/", self.rec.secrets)
        prefix = gpath.split("{", 1)[0]
        plain = target.split("?", 1)[0].split("#", 1)[0]
        if plain in self.redirect_uris:
            to = "${inputs.redirect_uri}"
        elif origin == e.origin:
            to = prefix
        elif origin in self.actors:
            to = f"${{inputs.{self.actors[origin].input}}}{prefix}"
        else:
            to = origin + prefix if self._safe(origin, 200) else self.input("redirect_target", "Where it redirects")
        out: dict[str, Any] = {"to": to}
        keys = [n for n, _ in parse_qsl(parts.query, keep_blank_values=True)][:12]
        if keys:
            out["query"] = {n: None for n in keys}
        return out

    def failures(self, t: dict, req: dict) -> None:
        fails = []
        if any(v == "${inputs.password}" for v in (req.get("form") or {}).values()):
            fails.append({"id": "wrong_password", "title": "Invalid credentials", "when": "the password is wrong",
                          "provoke": {"inputs": {"password": "not-the-password"}},
                          "response": {"status": 401, "description": "TODO: the status and error the login answers"},
                          "remedy": "Show the form again with a generic message; never say which field was wrong."})
        if req.get("auth") == "bearer":
            fails.append({"id": "missing_token", "title": "Token missing or expired",
                          "when": "the Authorization header is missing, or the token has expired",
                          "provoke": {"request": {"omit": ["Authorization"]}},
                          "response": {"status": 401, "error": "invalid_token"},
                          "remedy": "Refresh the access token once, then retry once."})
        if fails:
            t["failures"] = fails


def _states(n: int) -> list[dict]:
    states: list[dict] = [{"id": "s0", "title": "Start", "initial": True}]
    for k in range(1, n + 1):
        states.append({"id": f"s{k}", "title": f"After step {k}"})
    states[-1].update(terminal=True, title="Done",
                      handoff="TODO: where the reader goes next (e.g. the Authorization Guide)")
    return states


_LIFECYCLE = {
    "tokens": {"session": {"description": "TODO: the tokens or session this login produces", "ttl": "1h"}},
    "storage": {"web": "TODO: where the app keeps them"},
    "reauthenticate": ["TODO: when the user must sign in again"],
}


def har_to_flow(path: str | Path, *, flow_id: str | None = None, title: str | None = None,
                schema: str = SCHEMA_ID, today: _dt.date | None = None) -> str:
    """The text of a flow skeleton for the recording; raises ScaffoldError for bad input."""
    rec = read_har(path)
    flow_id = check_id(flow_id or "recorded-login")
    builder = _Builder(rec, _roles(rec))
    transitions = builder.build()
    day = (today or _dt.date.today()).isoformat()
    actors = {"browser": {"name": "Browser", "kind": "user-agent"}}
    for a in builder.actors.values():
        actors[a.id] = {"name": a.name, "kind": a.kind, "base_url": f"${{inputs.{a.input}}}"}
    flow: dict[str, Any] = {
        "id": flow_id,
        "title": title or "TODO: what this sign-in does, in a few words",
        "summary": f"TODO: who signs in here and when. Recorded in the browser: {len(transitions)} requests "
                   f"to {len(builder.actors)} hosts.",
        "version": "0.1.0", "updated": day, "status": "draft",
        "changelog": [{"version": "0.1.0", "date": day, "notes": "Started from a browser recording (flowdoc new --from-har)."}],
        "actors": actors, "inputs": builder.inputs,
    }
    if builder.generate:
        flow["generate"] = builder.generate
    flow["states"] = _states(len(transitions))
    flow["transitions"] = transitions
    flow["lifecycle"] = _LIFECYCLE
    body = yaml.safe_dump(flow, sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)
    text = (f"# yaml-language-server: $schema={schema}\n"
            f"# Started with `flowdoc new --from-har` from {len(rec.entries)} recorded requests "
            f"({rec.skipped} assets or failed requests left out).\n"
            "# Secrets of the recording are inputs (secret: true) or captures; replace every TODO, then run\n"
            "#   flowdoc lint FILE   and   flowdoc verify FILE --env-file staging.env\n" + body)
    leaks = rec.secrets.leaks(text)
    if leaks:
        raise ScaffoldError(f"refusing to write: a secret value of the recording would appear in the flow "
                            f"({', '.join(sorted(set(leaks)))}); please report this as a bug")
    return text
