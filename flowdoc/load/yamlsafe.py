"""A safe, position-keeping YAML reader built on libyaml's event stream.

PyYAML's loaders are not used to build values: they accept duplicate keys
silently, construct objects from ``!!python/...`` tags (unsafe loaders), apply
YAML 1.1 rules that change meaning (``yes`` → True, ``0755`` → 493, ``1.10`` →
1.1) and recurse, so deep nesting crashes libyaml's composer. Instead we read
libyaml's *events* (C parser, iterative) and build plain Python values
ourselves, recording the line and column of every key and value.

Rules:

* only the YAML core tags are honoured (``!!str``, ``!!int``, ``!!float``,
  ``!!bool``, ``!!null``, ``!!map``, ``!!seq``); any other tag is an error and
  nothing is constructed from it;
* plain scalars follow the YAML 1.2 core schema, and plain scalars whose
  meaning differs between YAML 1.1 and 1.2 (``y/n/yes/no/on/off`` in any
  case form, leading-zero octals, ``1.10``, ``1:30``) are reported, so the
  author quotes them;
* duplicate keys, several documents, nesting deeper than :data:`MAX_DEPTH`,
  aliases repeating more than :data:`MAX_ALIAS_NODES` values, documents of more
  than :data:`MAX_NODES` values and integers of more than :data:`MAX_INT_DIGITS`
  digits are reported.

The builder is one pass over the events with an explicit stack: no recursion,
whatever the input's depth.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

try:  # libyaml's C parser; the pure-Python one is the fallback
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - exercised only without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

from ..diagnostics import DiagnosticList, quote
from .yamltext import Pos, YamlError, _pos, report_syntax

MAX_DEPTH = 64
MAX_NODES = 1_000_000  # values in all, aliases expanded (a 16,000-state flow holds about 300,000)
MAX_ALIAS_NODES = 200_000  # values repeated by aliases
MAX_INT_DIGITS = 100  # Python refuses int() of more than 4,300; no flow needs more than a few

Path = tuple[Any, ...]


class SourceMap:
    """Where each value (and each mapping key) stands in the file.

    A map made with ``text`` holds no position yet: they are read again from the text the first
    time one is asked for (positions serve diagnostics, which most files never have), so a loaded
    flow keeps its text instead of a dictionary entry per value."""

    def __init__(self, values: dict[Path, Pos] | None = None, keys: dict[Path, Pos] | None = None,
                 *, text: str | None = None):
        self._values: dict[Path, Pos] = {} if values is None else values
        self._keys: dict[Path, Pos] = {} if keys is None else keys
        #: a key of a flow mapping ``{...}`` that follows an unquoted value: path -> the key of that
        #: value (``{when: a, refresh token held}``: an unquoted comma may have cut the value in two)
        self._after_plain: dict[Path, str] = {}
        self._text = text

    @property
    def values(self) -> dict[Path, Pos]:
        if self._text is not None:
            self._read()
        return self._values

    @property
    def keys(self) -> dict[Path, Pos]:
        if self._text is not None:
            self._read()
        return self._keys

    @property
    def after_plain(self) -> dict[Path, str]:
        if self._text is not None:
            self._read()
        return self._after_plain

    @property
    def read(self) -> bool:
        """True once the positions are known (always, for a map not made from a text)."""
        return self._text is None

    def _read(self) -> None:
        text = self._text
        if text is None:
            return
        try:
            _value, full = parse_yaml(text, DiagnosticList("<positions>"))
        except YamlError:  # pragma: no cover - the text parsed once already
            full = SourceMap()
        self._values, self._keys, self._after_plain = full._values, full._keys, full._after_plain
        self._text = None  # last: a thread reading meanwhile reads the text again, never half a map

    def __eq__(self, other: object) -> bool:  # as the dataclass it was: flows loaded alike compare equal
        if not isinstance(other, SourceMap):
            return NotImplemented
        if self._text is not None and self._text == other._text:
            return True
        return self.values == other.values and self.keys == other.keys

    __hash__ = None  # type: ignore[assignment]

    def value(self, path: Path) -> Pos | None:
        """Position of the value at ``path``, or of its nearest ancestor."""
        values = self.values
        path = tuple(path)
        while True:
            pos = values.get(path)
            if pos is not None or not path:
                return pos
            path = path[:-1]

    def key(self, path: Path) -> Pos | None:
        """Position of the key that names ``path`` (falls back to the value)."""
        path = tuple(path)
        return self.keys.get(path) or self.value(path)


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
#: the first characters of every text the rules of ``_Builder._plain`` after null and booleans read
#: as other than a string: a YAML 1.1 boolean (y, n, on, off), a number, a special float (.inf)
_NOT_TEXT_START = frozenset("yYnNoO0123456789+-.")


_TAG_TYPES: dict[str, type | tuple[type, ...]] = {"int": int, "float": (int, float), "bool": bool}


def _is_int(text: str) -> bool:
    return bool(_INT.match(text) or _HEX.match(text) or _OCT12.match(text))


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


class _Frame:
    __slots__ = ("anchor", "flow", "key", "key_mark", "keys_seen", "kind", "path", "plain_key", "size", "value")

    def __init__(self, kind: str, value: Any, path: Path, anchor: str | None, flow: bool = False):
        self.kind = kind
        self.value = value
        self.path = path
        self.key: Any = _NO_KEY
        self.key_mark: Pos | None = None
        self.keys_seen: dict[str, Pos] = {}
        self.anchor = anchor
        self.size = 1
        self.flow = flow  # written {...}
        self.plain_key: str | None = None  # the key whose value, just read, was an unquoted scalar


_NO_KEY = object()


class _Builder:
    def __init__(self, diags: DiagnosticList):
        self.diags = diags
        self.source = SourceMap()
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.total = 0
        self.bomb_reported = False
        self.aliased = 0  # values that aliases repeat

    # -- scalars -------------------------------------------------------------
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

    # -- aliases -------------------------------------------------------------
    def count(self, n: int, pos: Pos) -> bool:
        """Count values; False (reported once) past either limit."""
        self.total += n
        if self.aliased > MAX_ALIAS_NODES:
            message = f"aliases repeat more than {MAX_ALIAS_NODES:,} values (an alias bomb?)"
            help = "remove the anchors and aliases that repeat large blocks"
        elif self.total > MAX_NODES:
            message = f"the document holds more than {MAX_NODES:,} values"
            help = "split the flow; a flow of 16,000 states holds about 300,000"
        else:
            return True
        if not self.bomb_reported:
            self.bomb_reported = True
            self.diags.add("yaml-too-large", message, pos, help=help)
        return False


_NODE_EVENTS = (yaml.ScalarEvent, yaml.AliasEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)
_END_EVENTS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class _EventReader:
    """One pass over libyaml's events with an explicit stack of open mappings and sequences."""

    def __init__(self, diags: DiagnosticList, positions: bool = True):
        self.diags = diags
        self.positions = positions  # False: no position recorded (the map reads them later, if asked)
        self.b = _Builder(diags)
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.have_root = False
        self.docs = 0

    def read(self, text: str) -> None:
        """Build the document; raises :class:`YamlError` (diagnostics added) when it cannot."""
        parser = _Loader(text)
        next_event = parser.get_event  # the parser's own loop: yaml.parse adds a generator and a check per event
        try:
            while (ev := next_event()) is not None:
                cls = type(ev)
                if cls in _NODE_EVENTS:
                    self.node(ev, cls)
                elif cls in _END_EVENTS:
                    self.end()
                elif cls is yaml.DocumentStartEvent and not self.document(ev):
                    break
        finally:
            parser.dispose()

    def node(self, ev: Any, cls: type) -> None:
        """A scalar, an alias or the start of a mapping or sequence: a key, or a value at its path."""
        pos = _pos(ev.start_mark)
        parent = self.stack[-1] if self.stack else None
        if parent is not None and parent.kind == "map" and parent.key is _NO_KEY:
            self.key(parent, ev, cls, pos)
            return
        if parent is None or not self.positions:
            path: Path = ()
        elif parent.kind == "map":
            path = parent.path + (parent.key,)
            self.b.source.keys[path] = parent.key_mark  # type: ignore[assignment]
        else:
            path = parent.path + (len(parent.value),)
        if self.positions:
            self.b.source.values[path] = pos
        plain = False
        if cls is yaml.ScalarEvent:
            value, size = self.scalar(ev, pos)
            plain = not ev.style and bool(ev.value)
        elif cls is yaml.AliasEvent:
            value, size = self.alias(ev, pos)
        else:
            self.start(ev, cls, path, pos)
            return
        self.attach(parent, value, size, plain)

    def key(self, parent: _Frame, ev: Any, cls: type, pos: Pos) -> None:
        diags = self.diags
        if cls is not yaml.ScalarEvent:
            diags.add("yaml-key", "a mapping key must be a plain value, not a list, mapping or alias", pos)
            raise YamlError()
        key = ev.value
        if ev.tag and ev.tag != "!" and ev.tag not in _ALLOWED_TAGS:
            diags.add("yaml-tag", f"the tag {quote(_short_tag(ev.tag))} is not allowed on a key", pos)
        if key in parent.keys_seen:
            first = parent.keys_seen[key]
            diags.add(
                "duplicate-key",
                f"duplicate key {quote(key)} (first defined at line {first[0]})",
                pos,
                help="YAML keeps only the last value silently; remove or rename one of them",
            )
        else:
            parent.keys_seen[key] = pos
        parent.key = key
        parent.key_mark = pos
        if parent.plain_key is not None:  # a key after an unquoted value in {...}: a comma may have cut it
            self.b.source.after_plain[parent.path + (key,)] = parent.plain_key

    def scalar(self, ev: Any, pos: Pos) -> tuple[Any, int]:
        b = self.b
        value = b.scalar(ev, pos)
        if ev.anchor:
            b.anchors[ev.anchor] = (value, 1)
        if not b.count(1, pos):
            raise YamlError()
        return value, 1

    def alias(self, ev: Any, pos: Pos) -> tuple[Any, int]:
        b = self.b
        if ev.anchor not in b.anchors:
            self.diags.add("yaml-syntax", f"unknown alias {quote('*' + ev.anchor)}", pos)
            raise YamlError()
        value, size = b.anchors[ev.anchor]
        b.aliased += size
        if not b.count(size, pos):
            raise YamlError()
        return value, size

    def start(self, ev: Any, cls: type, path: Path, pos: Pos) -> None:
        """A mapping or sequence opens: push its frame."""
        if len(self.stack) >= MAX_DEPTH:
            self.diags.add(
                "yaml-too-deep",
                f"the document nests deeper than {MAX_DEPTH} levels",
                pos,
                help="flatten the structure; flow files need only a few levels",
            )
            raise YamlError()
        if ev.tag and ev.tag != "!" and ev.tag not in _ALLOWED_TAGS:
            self.diags.add(
                "yaml-tag",
                f"the tag {quote(_short_tag(ev.tag))} is not allowed; flowdoc never constructs objects from tags",
                pos,
                help="remove the tag",
            )
        kind = "map" if cls is yaml.MappingStartEvent else "seq"
        self.stack.append(_Frame(kind, {} if kind == "map" else [], path, ev.anchor,
                                 kind == "map" and bool(ev.flow_style)))
        if not self.b.count(1, pos):
            raise YamlError()

    def end(self) -> None:
        """A mapping or sequence closes: pop its frame and attach its value."""
        frame = self.stack.pop()
        if frame.anchor:
            self.b.anchors[frame.anchor] = (frame.value, frame.size)
        self.attach(self.stack[-1] if self.stack else None, frame.value, frame.size)

    def attach(self, parent: _Frame | None, value: Any, size: int, plain: bool = False) -> None:
        """A value under its parent; ``plain``: an unquoted, non-empty scalar (noted in {...}, see :meth:`key`)."""
        if parent is None:
            self.root, self.have_root = value, True
        elif parent.kind == "map":
            parent.value[parent.key] = value
            parent.plain_key = parent.key if plain and parent.flow else None
            parent.key = _NO_KEY
            parent.size += size
        else:
            parent.value.append(value)
            parent.size += size

    def document(self, ev: Any) -> bool:
        """A document starts; False (reported) at the second one."""
        self.docs += 1
        if self.docs > 1:
            self.diags.add(
                "yaml-multiple-documents",
                "the file holds more than one YAML document",
                _pos(ev.start_mark),
                help="put each flow in its own file, or remove the '---' separator",
            )
            return False
        return True


def parse_yaml(text: str, diags: DiagnosticList, *, positions: bool = True) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain values and a source map.

    ``positions=False``: the source map reads the positions from ``text`` when first asked (the
    parse itself records none: faster, and a loaded flow keeps its text instead of the map).

    Problems are added to ``diags``; :class:`YamlError` is raised when no usable
    document could be built (syntax errors, nothing but comments, ...).
    """
    reader = _EventReader(diags, positions)
    try:
        reader.read(text)
    except yaml.MarkedYAMLError as exc:
        report_syntax(exc, text, diags)
        raise YamlError() from None
    except yaml.YAMLError as exc:  # errors without a mark (reader errors)
        diags.add("yaml-syntax", str(exc).splitlines()[0])
        raise YamlError() from None
    if not reader.have_root:
        diags.add("empty-file", "the file holds no YAML document", help="start from an example in flows/")
        raise YamlError()
    return reader.root, (reader.b.source if positions else SourceMap(text=text))
