"""The words of a flow's diagrams and page: request and response labels, failure texts,
durations, waits, and the order of the steps. Author text stays unescaped here (the
renderers escape it); secret inputs are shown as «NAME», never their value.
"""

from __future__ import annotations

import re
from typing import Any

from ..model.expr import ExprError, Ref, iter_refs
from ..model.flow import Failure, Flow, Poll, PollAnswer, Request, Response, Transition
from .once import once, once_for


def secret_values(flow: Flow) -> dict[str, str]:
    """Secret input name → its default as text (values that must never be printed)."""
    return once(flow, "secret_values", flow, lambda: _secret_values(flow))


def _secret_values(flow: Flow) -> dict[str, str]:
    out = {}
    for name, inp in flow.inputs.items():
        if inp.secret and inp.default is not None and str(inp.default) != "":
            out[name] = value_text(inp.default)
    return out


def _secret_texts(flow: Flow) -> frozenset[str]:
    """The values of :func:`secret_values`."""
    return once(flow, "secret_texts", flow, lambda: frozenset(secret_values(flow).values()))


def _refs(text: str) -> list[Ref] | None:
    """The references of a string, by the expression language's own walker (which knows
    ``$${``); None when the string does not parse (an invalid flow)."""
    try:
        return list(iter_refs(text))
    except ExprError:
        return None


def redact(flow: Flow, text: str) -> str:
    """``${inputs.NAME}`` of a secret input shown as «NAME» (``$${`` is a literal, not a reference)."""
    if "${" not in text:
        return text
    secret = {n for n, i in flow.inputs.items() if i.secret}
    if not secret:
        return text
    refs = _refs(text)
    if refs is None:  # not a valid string: hide every spelling of a secret reference
        for name in secret:
            text = text.replace("${inputs." + name + "}", f"«{name}»")
        return text
    out, last = [], 0
    for ref in refs:
        if len(ref.path) == 2 and ref.path[0] == "inputs" and ref.path[1] in secret:
            out += [text[last:ref.start], f"«{ref.path[1]}»"]
            last = ref.end
    out.append(text[last:])
    return "".join(out)


# ------------------------------------------------------- references, as a reader reads them

#: words written in capitals when a capture or input name is read out (``login_url`` → login URL)
_ACRONYMS = {"url": "URL", "uri": "URI", "id": "ID", "otp": "OTP", "totp": "TOTP", "pkce": "PKCE",
             "jwt": "JWT", "acr": "ACR", "ttl": "TTL", "mfa": "MFA", "csrf": "CSRF", "uid": "UID",
             "jwks": "JWKS", "oidc": "OIDC", "api": "API", "html": "HTML", "http": "HTTP"}


def name_words(name: str) -> str:
    """``login_url`` → ``login URL``, ``consentResumeUrl`` → ``consent resume URL``."""
    spaced = []
    for i, ch in enumerate(name):
        if ch in "_-.":
            spaced.append(" ")
        elif ch.isupper() and i and name[i - 1].islower():
            spaced.append(" " + ch.lower())
        else:
            spaced.append(ch)
    words = "".join(spaced).split()
    return " ".join(_ACRONYMS.get(w.lower(), w) for w in words)


def input_shown(flow: Flow, name: str) -> str:
    """What a page shows for ``${inputs.NAME}``: its example, else its default, else «NAME»
    (always «NAME» for a secret)."""
    inp = flow.inputs.get(name)
    if inp is None or inp.secret:
        return f"«{name}»"
    if inp.example is not None and str(inp.example) != "":
        return str(inp.example)
    if inp.default is not None and not isinstance(inp.default, (dict, list)) and value_text(inp.default) != "":
        return value_text(inp.default)
    return f"«{name}»"


def _step_numbers(flow: Flow) -> dict[str, int]:
    return once(flow, "step_numbers", flow, lambda: {t.id: n for n, t in enumerate(ordered_transitions(flow), 1)})


def _ref_words(flow: Flow, path: tuple[str, ...], steps: dict[str, int]) -> str:
    """One reference in words: an input's example or «NAME», ``the login URL from step 1``,
    ``the PKCE challenge``, ``the access token from the authorization-code-pkce flow``."""
    head = path[0]
    if head == "inputs" and len(path) == 2:
        return input_shown(flow, path[1])
    if head == "steps" and len(path) >= 3:
        n = steps.get(path[1])
        what = "status" if path[2] == "status" else name_words(path[-1])
        return f"the {what} from step {n}" if n else f"the {what} from step {path[1]}"
    gen = flow.generate.get(head)
    if gen is not None:
        kind = gen.kind.value
        if len(path) >= 2:
            return f"the {name_words(head)} {name_words(path[-1])}"
        return f"the {'TOTP code' if kind == 'totp' else 'generated ' + name_words(head)}"
    req = flow.requires.get(head)
    if req is not None and len(path) >= 2:
        return f"the {name_words(path[-1])} from the {req.flow} flow"
    return f"«{'.'.join(path)}»"


def readable(flow: Flow, text: str) -> str:
    """Text with each ``${...}`` as a reader reads it (see :func:`_ref_words`); a secret input
    is «NAME», never its value. ``$${`` is a literal ``${``. Text that does not parse (an
    invalid flow) keeps no reference visible: each becomes «...»."""
    if "${" not in text:
        return text
    return once(flow, "readable", text, lambda: _readable(flow, text))


def _readable(flow: Flow, text: str) -> str:
    refs = _refs(text)
    if refs is None:
        return redact(flow, text)
    steps = _step_numbers(flow) if any(r.path[0] == "steps" for r in refs) else {}
    out, last = [], 0
    for ref in refs:
        out += [text[last:ref.start], _ref_words(flow, ref.path, steps)]
        last = ref.end
    out.append(text[last:])
    return "".join(out).replace("$${", "${")


#: a reference inside generated text (a change message quoting a value): ``${path}``
_LOOSE_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_\-]{0,100}(?:\.[A-Za-z0-9_\-]{1,100}){0,8})\}")


def readable_loose(flow: Flow, text: str) -> str:
    """Like :func:`readable`, for text that is not a flow value (a change message that quotes
    ``'${pkce.challenge}'``): each well-formed ``${path}`` in words, the rest as it is."""
    if "${" not in text:
        return text
    steps = _step_numbers(flow) if "${steps." in text else {}
    return _LOOSE_REF.sub(lambda m: _ref_words(flow, tuple(m.group(1).split(".")), steps), text)


def value_text(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def is_literal(v: Any) -> bool:
    """A constant the reader should see (not a ${...} reference)."""
    if isinstance(v, str):
        return "${" not in v or _refs(v) == []  # ``$${`` alone is a literal
    return isinstance(v, (int, float, bool))


def _param_values(req: Request) -> dict[str, Any]:
    vals: dict[str, Any] = {}
    if isinstance(req.json_body, dict):
        vals.update(req.json_body)
    if req.form:
        vals.update(req.form)
    vals.update(req.query)
    return vals


def key_params(flow: Flow, req: Request) -> list[str]:
    """``name=value`` for constants, ``name`` for references (and for anything secret)."""
    return once(flow, "key_params", req, lambda: _key_params(flow, req))


def _key_params(flow: Flow, req: Request) -> list[str]:
    vals = _param_values(req)
    secrets = _secret_texts(flow)
    out = []
    for k in req.shown_params:
        v = vals.get(k)
        if k in vals and v is not None and is_literal(v) and value_text(v) not in secrets:
            out.append(f"{param_name(flow, k)}={value_text(v)}")
        else:
            out.append(param_name(flow, k))
    return out


def param_name(flow: Flow, key: str) -> str:
    """A field named by an input (``${inputs.login_field}``) shows as its default: ``username``."""
    name = _input_ref(key) if "${" in key else None
    inp = flow.inputs.get(name) if name else None
    if inp is None or inp.secret or inp.default is None:
        return key
    return value_text(inp.default)


def request_line(req: Request) -> str:
    return f"{req.method} {req.path}"


_AUTH_PARAMS = {
    "client_secret_basic": ["Authorization: Basic"],
    "client_secret_post": ["client_id", "client_secret"],
    "bearer": ["Authorization: Bearer"],
}


def request_label(flow: Flow, req: Request) -> str:
    """``POST /token — grant_type=authorization_code, code, …, Authorization: Basic``.

    How the client authenticates is a key parameter too, so it ends the list.
    """
    params = key_params(flow, req)
    params = params + [p for p in _AUTH_PARAMS.get(req.auth, []) if p not in params]
    return request_line(req) + (" — " + ", ".join(params) if params else "")


def client_auth(req: Request) -> str | None:
    return {
        "client_secret_basic": "HTTP Basic with the client id and secret (client_secret_basic)",
        "client_secret_post": "client_id and client_secret in the form (client_secret_post)",
        "bearer": "Bearer token in the Authorization header",
    }.get(req.auth)


def status_text(status: int | list[int] | None) -> str:
    if status is None:
        return ""
    if isinstance(status, list):
        return "/".join(str(s) for s in status)
    return str(status)


def _redirect_text(flow: Flow, redirect) -> str:
    to = readable(flow, redirect.to) if redirect.to else ""
    keys = list(redirect.query)
    text = "Location" + (f": {to}" if to else "")
    if keys:
        text += "?" + "&".join(keys)
    return text


def _header_items(flow: Flow, headers: dict[str, Any]) -> list[str]:
    secrets = _secret_texts(flow)
    out = []
    for k, v in headers.items():
        if v is not None and is_literal(v) and value_text(v) not in secrets:
            out.append(f"{k}: {value_text(v)}")
        else:
            out.append(k)
    return out


def telling_fields(t: Transition) -> frozenset[str]:
    """Body fields the step's answers (its success and its failures) document with different values:
    the values that tell the cases apart (``active: true`` / ``active: false``), shown on arrows."""
    return once_for(t, "telling_fields", lambda: _telling_fields(t))


def _telling_fields(t: Transition) -> frozenset[str]:
    values: dict[str, set[str]] = {}
    bodies = ([t.response.body] if t.response is not None else []) + [f.response.body for f in t.failures]
    for body in bodies:
        for key, value in body.items():
            values.setdefault(key, set()).add(value_text(value))
    return frozenset(k for k, v in values.items() if len(v) > 1)


def _body_items(flow: Flow, body: dict[str, Any], tell: frozenset[str], fields: list[str]) -> list[str]:
    """``fields`` with ``name: value`` for each telling body field (a literal, never a secret)."""
    secrets = _secret_texts(flow)
    out = list(fields)
    for key, value in body.items():
        if key not in tell or not is_literal(value) or value_text(value) in secrets:
            continue
        item = f"{key}: {value_text(value)}"
        if key in out:
            out[out.index(key)] = item
        else:
            out.append(item)
    return out


def response_fields(flow: Flow, resp: Response, tell: frozenset[str] = frozenset()) -> list[str]:
    """The key fields of a documented response, for arrows and tables (with the values in ``tell``)."""
    fields = _body_items(flow, resp.body, tell, list(resp.fields))
    if resp.redirect is not None:
        fields.append(_redirect_text(flow, resp.redirect))
    fields += _header_items(flow, resp.headers)
    if resp.content_type:
        fields.append(resp.content_type)
    if resp.form:
        fields.append("HTML form")
    fields += [f"“{readable(flow, t)}”" for t in resp.text]
    return fields


def response_brief(resp: Response) -> str:
    """``401 invalid_token`` / ``200``."""
    return status_text(resp.status) + (f" {resp.error}" if resp.error else "")


def response_label(flow: Flow, resp: Response, tell: frozenset[str] = frozenset()) -> str:
    """``200 — access_token, token_type, expires_in, refresh_token``; ``200 — active: true``."""
    return once(flow, ("response_label", tell), resp, lambda: _response_label(flow, resp, tell))


def _response_label(flow: Flow, resp: Response, tell: frozenset[str]) -> str:
    fields = response_fields(flow, resp, tell)
    return response_brief(resp) + (" — " + ", ".join(fields) if fields else "")


def failure_outcome(f: Failure) -> str:
    """``401 invalid_client``, ``timeout``, ``network error``."""
    r = f.response
    if r.outcome == "timeout":
        return "timeout"
    if r.outcome == "network-error":
        return "network error"
    return status_text(r.status) + (f" {r.error}" if r.error else "")


def failure_label(flow: Flow, f: Failure, tell: frozenset[str] = frozenset()) -> str:
    """What the failing response looks like: outcome, plus the body values in ``tell`` and a redirect target."""
    return once(flow, ("failure_label", tell), f, lambda: _failure_label(flow, f, tell))


def _failure_label(flow: Flow, f: Failure, tell: frozenset[str]) -> str:
    text = failure_outcome(f)
    if f.response.outcome != "response":
        return text
    items = _body_items(flow, f.response.body, tell, [])
    if f.response.redirect is not None:
        items.append(_redirect_text(flow, f.response.redirect))
    return text + (" — " + ", ".join(items) if items else "")


def failure_name(f: Failure) -> str:
    return f.title or f.id


def failure_condition(f: Failure) -> str:
    """The alt/else label: ``Wrong client secret — the client secret is wrong``."""
    return f"{f.title} — {f.when}" if f.title else f.when


def failure_target(t: Transition, f: Failure) -> str:
    return f.to or t.from_


def duration_text(v: Any) -> str:
    """Seconds as ``1 h``, ``14 d``, ``1 h 30 min``; ``${...}`` text as is."""
    if isinstance(v, bool) or not isinstance(v, int):
        return str(v)
    if v == 0:
        return "0 s"
    parts = []
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min"), (1, "s")):
        n, v = divmod(v, size)
        if n:
            parts.append(f"{n} {unit}")
    return " ".join(parts)


def _input_ref(text: str) -> str | None:
    """NAME when ``text`` is exactly one reference ``${inputs.NAME}``."""
    refs = _refs(text) if "${" in text else None
    if refs and len(refs) == 1 and refs[0].start == 0 and refs[0].end == len(text):
        path = refs[0].path
        if len(path) == 2 and path[0] == "inputs":
            return path[1]
    return None


def wait_text(flow: Flow, wait: Any) -> str:
    """``Wait 1 h``; a wait given by an input reads ``Wait access_token_ttl (1 h by default)``."""
    if isinstance(wait, int):
        return "Wait " + duration_text(wait)
    name = _input_ref(str(wait))
    inp = flow.inputs.get(name) if name else None
    if name and inp is not None and not inp.secret:
        default = inp.default
        if isinstance(default, int) and not isinstance(default, bool):
            return f"Wait {name} ({duration_text(default)} by default)"
        return f"Wait {name} (seconds)"
    return "Wait " + readable(flow, str(wait)) + " s"


def ordered_transitions(flow: Flow) -> list[Transition]:
    """The happy path first, then every other transition in file order (each once)."""
    return once(flow, "ordered_transitions", flow, lambda: _ordered_transitions(flow))


def _ordered_transitions(flow: Flow) -> list[Transition]:
    happy = happy_path(flow)
    seen = {t.id for t in happy}
    return happy + [t for t in flow.transitions if t.id not in seen]


def happy_path(flow: Flow) -> list[Transition]:
    """``flow.happy_path()``, made once per page."""
    return once(flow, "happy_path", flow, flow.happy_path)


# ------------------------------------------------------------------ polling (RFC 8628)


def _seconds_words(flow: Flow, value: Any) -> str:
    """``5 s``; a reference reads ``the interval from step 1``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return duration_text(value)
    return readable(flow, str(value))


def poll_answer_label(a: PollAnswer) -> str:
    """``400 slow_down — poll again, 5 s slower``."""
    then = f"poll again, {duration_text(a.added)} slower" if a.added else "poll again"
    return f"{status_text(a.status)} {a.error} — {then}"


def poll_label(flow: Flow, t: Transition, poll: Poll) -> str:
    """The loop's label: ``From step 1 on, poll at the interval from step 1 (5 s if none) until …; at most …``."""
    interval = _seconds_words(flow, poll.interval)
    text = f"poll every {interval}" if isinstance(poll.interval, int) else f"poll at {interval} (5 s if none)"
    if poll.starts_after:
        n = _step_numbers(flow).get(poll.starts_after)
        text = f"From step {n} on, {text}" if n else f"From {poll.starts_after} on, {text}"
    else:
        text = text[0].upper() + text[1:]
    until = poll.until or "the answer is not " + " or ".join(a.error for a in poll.pending)
    text += f" until {until}"
    if poll.max_wait is not None:
        text += f"; at most {_seconds_words(flow, poll.max_wait)}"
    return text


def poll_text(flow: Flow, poll: Poll) -> str:
    """The page's words for the intermediate answers: ``400 authorization_pending: poll again; …``."""
    return "; ".join(poll_answer_label(a).replace(" — ", ": ", 1) for a in poll.pending)
