"""Scalars of a YAML document: the YAML 1.2 core schema, with the plain scalars YAML 1.1 reads
otherwise reported (see :mod:`flowdoc.load.yamlsafe`), and only the core tags honoured."""

from __future__ import annotations

import re
from typing import Any

from ..diagnostics import DiagnosticList, quote
from .yamltext import Pos

MAX_INT_DIGITS = 100  # Python refuses int() of more than 4,300; no flow needs more than a few

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "map", "seq")}

_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_YAML11_BOOL = re.compile(r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$")
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_OCT12 = re.compile(r"^0o[0-7]+$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}
_TRAILING_ZERO = re.compile(r"\.[0-9]*0$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
#: the first characters of every text the rules of ``Scalars._plain`` after null and booleans read
#: as other than a string: a YAML 1.1 boolean (y, n, on, off), a number, a special float (.inf)
_NOT_TEXT_START = frozenset("yYnNoO0123456789+-.")


_TAG_TYPES: dict[str, type | tuple[type, ...]] = {"int": int, "float": (int, float), "bool": bool}


def _is_int(text: str) -> bool:
    return bool(_INT.match(text) or _HEX.match(text) or _OCT12.match(text))


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


#: plain scalars that are null or a boolean (YAML 1.2 core schema)
_PLAIN_CONSTANTS: dict[str, Any] = {**dict.fromkeys(_NULL), **dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
#: a plain scalar starting so may be a number (``Scalars._plain`` decides) ...
_NUMBER_START = frozenset("0123456789+-.")
#: ... and one starting so, if short, a YAML 1.1 boolean (y, no, on, off, ...; a trailing newline counted)
_WORD_START = frozenset("yYnNoO")


class Scalars:
    """Scalar events to values; problems are added to ``diags`` at the position given."""

    def __init__(self, diags: DiagnosticList):
        self.diags = diags

    def scalar(self, ev: Any, pos: Pos) -> Any:
        text: str = ev.value
        tag = ev.tag
        if tag and tag != "!":
            if tag not in _ALLOWED_TAGS:
                self.diags.add(
                    "yaml-tag",
                    f"the tag {quote(_short_tag(tag))} is not allowed; flowdoc never constructs objects from tags",
                    pos,
                    help="remove the tag and write a plain value",
                )
                return text
            return self._explicit(tag[len(_CORE):], text, pos)
        if ev.style or tag == "!":  # quoted, literal or folded: always a string
            return text
        return self._plain(text, pos)

    def _explicit(self, kind: str, text: str, pos: Pos) -> Any:
        if kind == "str":
            return text
        if kind == "null":
            return None
        value = self._plain(text, pos, report=False)
        want = _TAG_TYPES.get(kind)
        if want is not None and (not isinstance(value, want) or (kind == "int" and isinstance(value, bool))):
            if not (_is_int(text) and self._too_long(text, pos)):
                self.diags.add("yaml-tag", f"{quote(text)} is not a valid !!{kind}", pos)
            return text
        return float(value) if kind == "float" else value

    def _plain(self, text: str, pos: Pos, report: bool = True) -> Any:
        if text in _NULL:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        if text[0] not in _NOT_TEXT_START:  # most values: no other rule below matches a text starting so
            return text
        if _YAML11_BOOL.match(text):
            if report:
                self.diags.add(
                    "yaml-ambiguous",
                    f"'{text}' is a boolean in YAML 1.1 but a string in YAML 1.2",
                    pos,
                    help=f'write true or false for a boolean, or quote it ("{text}") for text',
                )
            return text
        if _is_int(text):
            if self._too_long(text, pos, report):
                return text
            base = 16 if text.startswith("0x") else 8 if text.startswith("0o") else 10
            return int(text[2:] if base != 10 else text, base)
        if _LEADING_ZERO.match(text):
            if report:
                self.diags.add(
                    "yaml-ambiguous",
                    f"{quote(text)} is an octal number in YAML 1.1 but a decimal in YAML 1.2",
                    pos,
                    help=f"quote it for text, or write 0o{text.lstrip('+-0')[:20]} for an octal number",
                )
            return text
        if _FLOAT.match(text):
            if report and _TRAILING_ZERO.search(text.split("e")[0].split("E")[0]) and not text.endswith(".0"):
                self.diags.add(
                    "yaml-ambiguous",
                    f"{quote(text)} is read as the number {float(text)!r}, which drops the trailing zero",
                    pos,
                    help="quote it if it is a version or other text",
                )
                return text
            return float(text)
        if text.lower() in _SPECIAL_FLOAT:
            return _SPECIAL_FLOAT[text.lower()]
        if _SEXAGESIMAL.match(text) and report:
            self.diags.add(
                "yaml-ambiguous",
                f"{quote(text)} is a base-60 number in YAML 1.1 but a string in YAML 1.2",
                pos,
                help="quote it",
            )
        return text

    def _too_long(self, text: str, pos: Pos, report: bool = True) -> bool:
        """An integer of more than MAX_INT_DIGITS digits is reported (never converted)."""
        digits = len(text.lstrip("+-")) - (2 if text[:2] in ("0x", "0o") else 0)
        if digits <= MAX_INT_DIGITS:
            return False
        if report:
            self.diags.add(
                "number-too-long",
                f"a number of {digits:,} digits; flowdoc reads numbers of at most {MAX_INT_DIGITS} digits",
                pos,
                help="quote it if it is text (an id, a code), or write a smaller number",
            )
        return True
