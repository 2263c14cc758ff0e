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

from typing import Any, Callable

import yaml

try:  # libyaml's C parser; the pure-Python one is the fallback
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - exercised only without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

from ..diagnostics import DiagnosticList, quote
from .yamlscalar import (
    _ALLOWED_TAGS,
    _NUMBER_START,
    _PLAIN_CONSTANTS,
    _WORD_START,
    MAX_INT_DIGITS as MAX_INT_DIGITS,  # a limit of this module (see its docstring)
    Scalars,
    _short_tag,
)
from .yamltext import Pos, YamlError, _pos, report_syntax

MAX_DEPTH = 64
MAX_NODES = 1_000_000  # values in all, aliases expanded (a 16,000-state flow holds about 300,000)
MAX_ALIAS_NODES = 200_000  # values repeated by aliases

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


_NO_KEY = object()  # an open mapping's key while its next key is awaited


class _Frame:
    """An open mapping (``keys_seen`` a dict) or sequence (``keys_seen`` None), linked to the one it is in."""

    __slots__ = ("anchor", "flow", "key", "key_mark", "keys_seen", "parent", "path", "plain_key", "size", "value")

    def __init__(self, value: Any, parent: _Frame | None, anchor: str | None, path: Path, flow: bool):
        is_map = isinstance(value, dict)
        self.value = value
        self.key: Any = _NO_KEY if is_map else None  # a sequence's key is never _NO_KEY
        self.keys_seen: dict[str, Any] | None = {} if is_map else None  # key -> the mark of its first place
        self.key_mark: Any = None  # the mark of the key whose value comes next
        self.parent = parent
        self.anchor = anchor
        self.size = 1
        self.path = path  # with positions only: where the value stands
        self.flow = flow  # a mapping written {...}, with positions only
        self.plain_key: str | None = None  # the key whose value, just read, was an unquoted scalar


class _Builder(Scalars):
    """The scalars (:class:`~flowdoc.load.yamlscalar.Scalars`), the anchors, the source map and the size limits."""

    def __init__(self, diags: DiagnosticList):
        super().__init__(diags)
        self.source = SourceMap()
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.total = 0
        self.bomb_reported = False
        self.aliased = 0  # values that aliases repeat

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


class _SecondDocument(Exception):
    """A second document starts: the reading stops there (the first one is kept)."""


def _ignore(ev: Any) -> None:
    """Stream start and end, document end: nothing to do."""


class _EventReader:
    """One pass over libyaml's events, with an explicit stack of open mappings and sequences.

    One handler per kind of event; the common ones (a key, a plain or quoted value, a mapping or a
    sequence opening or closing) take a few steps each. With ``positions`` each value is placed
    (:meth:`place`) before its handler runs."""

    def __init__(self, diags: DiagnosticList, positions: bool = True):
        self.diags = diags
        self.positions = positions  # False: no position recorded (the map reads them later, if asked)
        self.b = _Builder(diags)
        self.top: _Frame | None = None  # the innermost open mapping or sequence
        self.depth = 0
        self.root: Any = None
        self.have_root = False
        self.docs = 0

    def read(self, text: str) -> None:
        """Build the document; raises :class:`YamlError` (diagnostics added) when it cannot."""
        parser = _Loader(text)
        next_event = parser.get_event  # the parser's own loop: yaml.parse adds a generator and a check per event
        on = self.handlers()
        try:
            while (ev := next_event()) is not None:
                on[type(ev)](ev)
        except _SecondDocument:
            pass
        finally:
            parser.dispose()

    def handlers(self) -> dict[type, Callable[[Any], Any]]:
        """The handler of each kind of event (the others: stream start and end, document end)."""
        scalar: Callable[[Any], None] = self.scalar
        alias: Callable[[Any], None] = self.alias
        start: Callable[[Any], None] = self.start
        if self.positions:
            scalar, alias, start = self.placed(self.scalar), self.placed(self.alias), self.placed(self.start)
        return {yaml.ScalarEvent: scalar, yaml.AliasEvent: alias, yaml.MappingStartEvent: start,
                yaml.SequenceStartEvent: start, yaml.MappingEndEvent: self.end, yaml.SequenceEndEvent: self.end,
                yaml.DocumentStartEvent: self.document, yaml.DocumentEndEvent: _ignore,
                yaml.StreamStartEvent: _ignore, yaml.StreamEndEvent: _ignore}

    def placed(self, handler: Callable[[Any, Path], None]) -> Callable[[Any], None]:
        def run(ev: Any) -> None:
            handler(ev, self.place(ev))
        return run

    def place(self, ev: Any) -> Path:
        """Record where a value stands, and the key that names it; a key is placed with its value."""
        top = self.top
        if top is None:
            path: Path = ()
        elif top.key is _NO_KEY:  # a key (or a mapping, sequence or alias where a key must be)
            return ()
        elif top.keys_seen is not None:
            path = top.path + (top.key,)
            self.b.source.keys[path] = _pos(top.key_mark)
        else:
            path = top.path + (len(top.value),)
        self.b.source.values[path] = _pos(ev.start_mark)
        return path

    def scalar(self, ev: Any, path: Path = ()) -> None:
        """A key, or a value: plain scalars in the core schema, quoted ones text, tagged ones by their tag."""
        top, text = self.top, ev.value
        if top is not None and top.key is _NO_KEY:
            if ev.tag or top.plain_key is not None or text in top.keys_seen:  # type: ignore[operator]
                self.key(top, ev)
            else:  # key, inline: a plain key said once
                top.keys_seen[text] = top.key_mark = ev.start_mark  # type: ignore[index]
                top.key = text
            return
        b = self.b
        if ev.tag:
            value = b.scalar(ev, _pos(ev.start_mark))
        elif ev.style:
            value = text
        elif text in _PLAIN_CONSTANTS:
            value = _PLAIN_CONSTANTS[text]
        elif text[0] in _NUMBER_START or (text[0] in _WORD_START and len(text) < 5):
            value = b._plain(text, _pos(ev.start_mark))
        else:  # most values: no rule of Scalars._plain reads a text starting so as other than a string
            value = text
        if ev.anchor:
            b.anchors[ev.anchor] = (value, 1)
        b.total += 1
        if b.total > MAX_NODES:
            self.too_large(ev)
        if top is None or top.flow:
            self.put(top, value, 1, not ev.style and bool(text))
        elif top.keys_seen is not None:  # put, inline: most values are scalars in a block mapping
            top.value[top.key] = value
            top.key = _NO_KEY
            top.size += 1
        else:
            top.value.append(value)
            top.size += 1

    def key(self, top: _Frame, ev: Any) -> None:
        """A mapping's key: a scalar, said once."""
        diags = self.diags
        if type(ev) is not yaml.ScalarEvent:
            diags.add("yaml-key", "a mapping key must be a plain value, not a list, mapping or alias",
                      _pos(ev.start_mark))
            raise YamlError()
        key, mark, seen = ev.value, ev.start_mark, top.keys_seen
        if ev.tag and ev.tag != "!" and ev.tag not in _ALLOWED_TAGS:
            diags.add("yaml-tag", f"the tag {quote(_short_tag(ev.tag))} is not allowed on a key", _pos(mark))
        if key in seen:  # type: ignore[operator]
            diags.add(
                "duplicate-key",
                f"duplicate key {quote(key)} (first defined at line {seen[key].line + 1})",  # type: ignore[index]
                _pos(mark),
                help="YAML keeps only the last value silently; remove or rename one of them",
            )
        else:
            seen[key] = mark  # type: ignore[index]
        top.key = key
        top.key_mark = mark
        if top.plain_key is not None:  # a key after an unquoted value in {...}: a comma may have cut it
            self.b.source.after_plain[top.path + (key,)] = top.plain_key

    def alias(self, ev: Any, path: Path = ()) -> None:
        """An alias: the anchored value again, counted as often as it is repeated."""
        top, b = self.top, self.b
        if top is not None and top.key is _NO_KEY:
            self.key(top, ev)  # raises: an alias is no key
        if ev.anchor not in b.anchors:
            self.diags.add("yaml-syntax", f"unknown alias {quote('*' + ev.anchor)}", _pos(ev.start_mark))
            raise YamlError()
        value, size = b.anchors[ev.anchor]
        b.aliased += size
        if not b.count(size, _pos(ev.start_mark)):
            raise YamlError()
        self.put(top, value, size, False)

    def start(self, ev: Any, path: Path = ()) -> None:
        """A mapping or sequence opens: push its frame."""
        top = self.top
        if top is not None and top.key is _NO_KEY:
            self.key(top, ev)  # raises: a mapping or sequence is no key
        if self.depth >= MAX_DEPTH:
            self.diags.add(
                "yaml-too-deep",
                f"the document nests deeper than {MAX_DEPTH} levels",
                _pos(ev.start_mark),
                help="flatten the structure; flow files need only a few levels",
            )
            raise YamlError()
        tag = ev.tag
        if tag and tag != "!" and tag not in _ALLOWED_TAGS:
            self.diags.add(
                "yaml-tag",
                f"the tag {quote(_short_tag(tag))} is not allowed; flowdoc never constructs objects from tags",
                _pos(ev.start_mark),
                help="remove the tag",
            )
        if type(ev) is yaml.MappingStartEvent:
            self.top = _Frame({}, top, ev.anchor, path, self.positions and bool(ev.flow_style))
        else:
            self.top = _Frame([], top, ev.anchor, path, False)
        self.depth += 1
        b = self.b
        b.total += 1
        if b.total > MAX_NODES:
            self.too_large(ev)

    def end(self, ev: Any) -> None:
        """A mapping or sequence closes: pop its frame and put its value in place."""
        frame = self.top
        assert frame is not None  # libyaml pairs every end with its start
        self.top = frame.parent
        self.depth -= 1
        if frame.anchor:
            self.b.anchors[frame.anchor] = (frame.value, frame.size)
        self.put(frame.parent, frame.value, frame.size, False)

    def put(self, top: _Frame | None, value: Any, size: int, plain: bool) -> None:
        """A value under its parent; ``plain``: an unquoted, non-empty scalar (noted in {...}, see :meth:`key`)."""
        if top is None:
            self.root, self.have_root = value, True
        elif top.keys_seen is not None:
            top.value[top.key] = value
            if top.flow:
                top.plain_key = top.key if plain else None
            top.key = _NO_KEY
            top.size += size
        else:
            top.value.append(value)
            top.size += size

    def too_large(self, ev: Any) -> None:
        """The document holds more than MAX_NODES values: reported (once), and the reading stops."""
        self.b.count(0, _pos(ev.start_mark))
        raise YamlError()

    def document(self, ev: Any) -> None:
        """A document starts; the reading stops (reported) at the second one."""
        self.docs += 1
        if self.docs > 1:
            self.diags.add(
                "yaml-multiple-documents",
                "the file holds more than one YAML document",
                _pos(ev.start_mark),
                help="put each flow in its own file, or remove the '---' separator",
            )
            raise _SecondDocument()


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
