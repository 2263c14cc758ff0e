"""Redaction: every secret value seen during a run is replaced by a stable placeholder.

The run registers each secret value once, under a label: a secret input (``«password»``),
a captured or detected token (``«access_token#1»``, ``«access_token#2»``), a cookie
(``«cookie:_session#1»``), client credentials in a Basic header. Every text that leaves
the verifier (excerpts, messages, reports, exceptions) passes through :meth:`Redactor.redact`,
which also catches the encoded forms of a value (URL-encoded, JSON-escaped).
"""

from __future__ import annotations

import bisect
import json
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus

# Keys whose values are secret wherever they appear (JSON bodies, form bodies, query strings).
SECRET_KEYS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "code",
        "device_code",
        "user_code",
        "client_secret",
        "password",
        "passwd",
        "code_verifier",
        "otp",
        "totp",
        "assertion",
        "client_assertion",
        "subject_token",
        "actor_token",
        "logout_token",
        "session",
        "session_id",
        "csrf",
        "csrf_token",
    }
)
_SECRET_SUFFIX = re.compile(r"(?:_token|_secret|password)$", re.IGNORECASE)


def is_secret_key(key: str) -> bool:
    k = key.lower()
    return k in SECRET_KEYS or bool(_SECRET_SUFFIX.search(k))


class Redactor:
    """Thread-safe registry of secret values and their placeholders."""

    #: auto-detected values shorter than this are not treated as secrets (they would blank out
    #: ordinary text); declared secret inputs are always registered
    MIN_DETECTED = 6

    #: variants at least this long are found through an index of their first characters, so the
    #: cost of redacting a text grows with the text, not with the number of secrets seen
    PREFIX = 8
    #: below this many indexed variants a plain substring scan is faster
    SCAN_ABOVE = 48

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._placeholder: dict[str, str] = {}  # value -> placeholder
        self._labels: dict[str, int] = {}  # label -> values seen under it
        self._variants: list[tuple[str, str]] = []  # (text to find, placeholder), longest first
        self._index: dict[str, list[tuple[str, str]]] = {}  # first PREFIX chars -> variants, longest first
        self._short: list[tuple[str, str]] = []  # variants shorter than PREFIX, longest first

    def __len__(self) -> int:
        return len(self._placeholder)

    def add(self, value: Any, label: str, *, numbered: bool = True, declared: bool = False) -> str | None:
        """Register ``value`` as secret; return its placeholder (the same one for the same value)."""
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            value = str(value)
        if not isinstance(value, str) or not value:
            return None
        if not declared and len(value) < self.MIN_DETECTED:
            return None
        ph = self._placeholder.get(value)
        if ph is not None:
            return ph
        with self._lock:
            ph = self._placeholder.get(value)
            if ph is not None:
                return ph
            n = self._labels.get(label, 0) + 1
            self._labels[label] = n
            ph = f"«{label}#{n}»" if (numbered or n > 1) else f"«{label}»"
            key = lambda x: -len(x[0])  # noqa: E731
            for variant in {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}:
                if not variant:
                    continue
                item = (variant, ph)
                bisect.insort(self._variants, item, key=key)
                if len(variant) >= self.PREFIX:
                    bisect.insort(self._index.setdefault(variant[: self.PREFIX], []), item, key=key)
                else:
                    bisect.insort(self._short, item, key=key)
            self._placeholder[value] = ph
            return ph

    def placeholder(self, value: str) -> str | None:
        return self._placeholder.get(value)

    def is_secret(self, value: Any) -> bool:
        return isinstance(value, str) and value in self._placeholder

    def contains_secret(self, text: str) -> bool:
        return bool(text) and self.redact(text) != text

    def redact(self, text: Any) -> Any:
        """Replace every registered secret in ``text`` (strings only; other values pass)."""
        if not isinstance(text, str) or not text:
            return text
        if len(self._variants) <= self.SCAN_ABOVE:
            for value, ph in list(self._variants):
                if value in text:
                    text = text.replace(value, ph)
            return text
        text = self._scan(text)
        for value, ph in list(self._short):
            if value in text:
                text = text.replace(value, ph)
        return text

    def _scan(self, text: str) -> str:
        index, width = self._index, self.PREFIX
        out: list[str] = []
        last = i = 0
        end = len(text) - width
        while i <= end:
            cands = index.get(text[i:i + width])
            if cands:
                for value, ph in list(cands):
                    if text.startswith(value, i):
                        out.append(text[last:i])
                        out.append(ph)
                        i += len(value)
                        last = i
                        break
                else:
                    i += 1
            else:
                i += 1
        if not out:
            return text
        out.append(text[last:])
        return "".join(out)

    def redact_obj(self, obj: Any) -> Any:
        """Redact strings inside dicts and lists; values under secret keys become placeholders."""
        if isinstance(obj, dict):
            out = {}
            for k, v in obj.items():
                if isinstance(k, str) and is_secret_key(k) and isinstance(v, (str, int)) and not isinstance(v, bool):
                    out[k] = self.add(v, k.lower()) or self.redact(str(v))
                else:
                    out[k] = self.redact_obj(v)
            return out
        if isinstance(obj, list):
            return [self.redact_obj(v) for v in obj]
        if isinstance(obj, str):
            return self.redact(obj)
        return obj

    def register_json(self, obj: Any, depth: int = 0) -> None:
        """Register the values of secret keys found in a parsed JSON document."""
        if depth > 8:
            return
        if isinstance(obj, dict):
            for k, v in obj.items():
                if isinstance(k, str) and is_secret_key(k) and isinstance(v, str):
                    self.add(v, k.lower())
                elif isinstance(v, (dict, list)):
                    self.register_json(v, depth + 1)
        elif isinstance(obj, list):
            for v in obj[:200]:
                self.register_json(v, depth + 1)
