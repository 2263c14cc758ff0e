"""``WWW-Authenticate`` challenges (RFC 7235 §4.1, §2.1), parsed in one linear pass.

    challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
    auth-param = token BWS "=" BWS ( token / quoted-string )

A header value is hostile input: the scanner moves forward only (every step consumes at least one
character), uses no pattern that can backtrack, and skips what it cannot read up to the next comma
instead of failing, so a malformed or crafted header costs time proportional to its length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ._memo import Memo

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_BWS = re.compile(r"[ \t]*")
_QDTEXT = re.compile(r'[^"\\]*')
_BARE_VALUE = re.compile(r"[^,\s]*")  # a lenient unquoted value (tokens in the wild carry ':' or '/')


@dataclass
class Challenge:
    scheme: str
    token68: str | None = None
    params: dict[str, str] = field(default_factory=dict)  # names in lower case; the first one wins


def _skip(pattern: re.Pattern[str], text: str, pos: int) -> int:
    return pattern.match(text, pos).end()  # type: ignore[union-attr]  # the patterns match empty


def _quoted(text: str, pos: int) -> tuple[str, int]:
    """The quoted-string starting at ``text[pos] == '"'``: (unescaped value, position after it).
    An unterminated string runs to the end of the value."""
    out: list[str] = []
    i, n = pos + 1, len(text)
    while i < n:
        j = _QDTEXT.match(text, i).end()  # type: ignore[union-attr]
        out.append(text[i:j])
        if j >= n:
            return "".join(out), n
        if text[j] == '"':
            return "".join(out), j + 1
        out.append(text[j + 1:j + 2])  # quoted-pair: the escaped character itself
        i = j + 2
    return "".join(out), n


def _at_list_end(text: str, pos: int) -> bool:
    pos = _skip(_BWS, text, pos)
    return pos >= len(text) or text[pos] == ","


def _param(text: str, pos: int, current: Challenge, name: str) -> int:
    """Read the value of ``name=`` (``pos`` is after the '='); return the position after it."""
    pos = _skip(_BWS, text, pos)
    if pos < len(text) and text[pos] == '"':
        value, pos = _quoted(text, pos)
    else:
        m = _BARE_VALUE.match(text, pos)
        value, pos = m.group(), m.end()  # type: ignore[union-attr]
    current.params.setdefault(name.lower(), value)
    return pos


def _scheme(text: str, pos: int, scheme: str, out: list[Challenge]) -> int:
    """A new challenge; read its token68 if one follows. Return the position after what was read."""
    current = Challenge(scheme)
    out.append(current)
    after = _skip(_BWS, text, pos)
    m = _TOKEN68.match(text, after)
    if after > pos and m is not None and _at_list_end(text, m.end()) and not _is_param(text, after):
        current.token68 = m.group()
        return m.end()
    return pos


def _is_param(text: str, pos: int) -> bool:
    """``name=value`` at ``pos`` (as opposed to a token68 such as ``abc==``)."""
    m = _TOKEN.match(text, pos)
    if m is None:
        return False
    eq = _skip(_BWS, text, m.end())
    if eq >= len(text) or text[eq] != "=":
        return False
    rest = _skip(_BWS, text, eq + 1)
    return rest < len(text) and text[rest] not in ",="


def parse_challenges(value: str) -> list[Challenge]:
    """Every challenge of one ``WWW-Authenticate`` value, in order."""
    out: list[Challenge] = []
    current: Challenge | None = None
    pos, n = 0, len(value)
    while pos < n:
        ch = value[pos]
        if ch in ", \t":
            pos += 1
            continue
        m = _TOKEN.match(value, pos)
        if m is None:  # not a token: skip this list element
            nxt = value.find(",", pos + 1)
            pos = n if nxt < 0 else nxt
            continue
        eq = _skip(_BWS, value, m.end())
        if eq < n and value[eq] == "=":
            if current is not None and current.token68 is None:
                pos = _param(value, eq + 1, current, m.group())
            else:  # a parameter with no challenge to belong to: skip this list element
                nxt = value.find(",", eq)
                pos = n if nxt < 0 else nxt
            continue
        pos = _scheme(value, m.end(), m.group(), out)
        current = out[-1]
    return out


_PARSED: Memo[str, dict[str, str]] = Memo(256)  # a server answers with the same few challenges again and again


def www_authenticate_params(value: str) -> dict[str, str]:
    """Parameters of the challenges in one header value: ``Bearer error="invalid_token", ...``
    gives ``{"error": "invalid_token"}`` (names in lower case; the first occurrence wins)."""
    known = _PARSED.get(value)
    if known is not None:
        return dict(known)
    params: dict[str, str] = {}
    for challenge in parse_challenges(value):
        for k, v in challenge.params.items():
            params.setdefault(k, v)
    if len(value) <= 1024:  # a short value kept (never a server's long one)
        _PARSED.keep(value, dict(params))
    return params
