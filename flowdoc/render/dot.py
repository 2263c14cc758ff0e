"""Graphviz DOT from the diagram model, and SVG through Graphviz's ``dot`` program.

Text is escaped by :mod:`flowdoc.escape` (``dot_string``: quoted labels, which keep every
character, tabs included, unlike HTML-like labels); every id is a quoted generated id.

``dot`` is an external program with its own limits: a label of a megabyte makes it crash,
a few hundred states with failure branches keep it busy for minutes. So SVG output is
bounded (:func:`check_svg_limits`, :func:`to_svg`), and every way it can fail is a
:class:`~flowdoc.render.RenderError`:

- at most :data:`MAX_SVG_NODES` boxes (states, choice points, steps, decisions, message
  rows) and :data:`MAX_LABEL` characters per label, checked before ``dot`` runs;
- at most :data:`MAX_DOT_SOURCE` bytes of DOT;
- ``dot`` runs at most :data:`DOT_TIMEOUT` seconds (environment variable
  ``FLOWDOC_DOT_TIMEOUT``) with at most :data:`DOT_MEMORY` bytes of address space; a crash
  (a signal, a non-zero exit) is reported with ``dot``'s message.

DOT and Mermaid output have no such limits (they are text; no program runs).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from itertools import pairwise
from typing import Iterator

try:
    import resource
except ImportError:  # pragma: no cover - not POSIX: dot runs without a memory limit
    resource = None  # type: ignore[assignment]

from ..escape import IdMap, dot_id, dot_string, wrap_words
from .diagram import Block, Flowchart, Message, Note, Sequence, StateGraph
from .errors import RenderError

WIDTH_NODE = 32
WIDTH_EDGE = 40

FONT = "Helvetica"
FAILURE = 'style="rounded,filled", fillcolor="#fdecea", color="#c62828", fontcolor="#b71c1c"'


#: The most boxes an SVG diagram may have (states and choice points, flowchart nodes, sequence rows).
MAX_SVG_NODES = 2_000
#: The longest label (characters) an SVG diagram may have.
MAX_LABEL = 2_000
#: The largest DOT source (bytes) given to ``dot``.
MAX_DOT_SOURCE = 4 * 1024 * 1024
#: Seconds ``dot`` may run (``FLOWDOC_DOT_TIMEOUT`` overrides it).
DOT_TIMEOUT = 30.0
#: Address space (bytes) ``dot`` may use.
DOT_MEMORY = 2 * 1024 * 1024 * 1024


class GraphvizMissing(RuntimeError):
    """The ``dot`` program of Graphviz is not installed (or not on PATH)."""


def _wrapped(text: str, width: int) -> str:
    return "\n".join(wrap_words(text, width))


def _label(text: str, width: int) -> str:
    """A quoted label, wrapped at spaces (Graphviz centres each line)."""
    return dot_string(_wrapped(text, width))


def _head(name: str, rankdir: str = "TB") -> list[str]:
    return [
        f"digraph {dot_id(name)} {{",
        f"  graph [rankdir={rankdir}, fontname={dot_string(FONT)}, nodesep=0.4, ranksep=0.5];",
        f"  node [fontname={dot_string(FONT)}, fontsize=11];",
        f"  edge [fontname={dot_string(FONT)}, fontsize=9];",
    ]


def state(graph: StateGraph, name: str = "states") -> str:
    ids = IdMap("s")
    lines = _head(name)
    lines.append('  "__start" [shape=point, width=0.18, label=""];')
    has_end = any(e.dst is None for e in graph.edges)
    if has_end:
        lines.append('  "__end" [shape=doublecircle, width=0.12, label="", style=filled, fillcolor=black];')

    def nid(key: str | None, start: bool) -> str:
        if key is None:
            return '"__start"' if start else '"__end"'
        return dot_id(ids[key])

    for n in graph.nodes:
        if n.kind == "choice":
            lines.append(f'  {nid(n.key, True)} [shape=diamond, width=0.3, height=0.3, label=""];')
            continue
        attrs = [f"label={_label(n.label, WIDTH_NODE)}", "shape=box"]
        attrs.append(FAILURE if n.failure else 'style="rounded"')
        if n.terminal:
            attrs.append("peripheries=2")
        lines.append(f"  {nid(n.key, True)} [{', '.join(attrs)}];")
    for e in graph.edges:
        attrs = []
        if e.label:
            attrs.append(f"label={dot_string(_wrapped(e.label, WIDTH_EDGE))}")
        if e.kind == "failure":
            attrs.append('color="#c62828", fontcolor="#b71c1c"')
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {nid(e.src, True)} -> {nid(e.dst, False)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


_FC_SHAPES = {
    "start": 'shape=box, style="rounded,bold"',
    "end": 'shape=box, style="rounded,bold"',
    "state": 'shape=box, style="rounded"',
    "step": 'shape=box, style="filled", fillcolor="#f5f5f5"',
    "decision": "shape=diamond",
}


def flowchart(fc: Flowchart, name: str = "flowchart") -> str:
    ids = IdMap("n")
    lines = _head(name, "TB" if fc.direction in ("TD", "TB") else fc.direction)
    for n in fc.nodes:
        shape = FAILURE.replace('"rounded,filled"', '"rounded,filled,bold"') if n.failure else _FC_SHAPES[n.shape]
        if n.failure:
            shape = "shape=box, " + shape
        lines.append(f"  {dot_id(ids[n.key])} [label={_label(n.text, WIDTH_NODE)}, {shape}];")
    for e in fc.edges:
        attrs = []
        if e.label:
            attrs.append(f"label={dot_string(_wrapped(e.label, WIDTH_EDGE))}")
        if e.dotted:
            attrs.append("style=dashed")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {dot_id(ids[e.src])} -> {dot_id(ids[e.dst])}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def sequence(seq: Sequence, name: str = "sequence") -> str:
    """A sequence diagram drawn with lifelines: one column of points per participant,
    one row per message or note, messages as horizontal edges."""
    ids = IdMap("p")
    rows: list[tuple[str, Message | Note]] = []  # ("msg", Message) | ("note" or "block", Note)

    def flatten(items, prefix: str = "") -> None:
        for it in items:
            if isinstance(it, Message):
                rows.append(("msg", it))
            elif isinstance(it, Note):
                rows.append(("note", it))
            elif isinstance(it, Block):
                for i, sec in enumerate(it.sections):
                    head = {"alt": ("alt", "else"), "opt": ("opt", "opt"), "par": ("par", "and"),
                            "rect": ("internal", "internal"), "loop": ("loop", "loop")}[it.kind]
                    word = head[0] if i == 0 else head[1]
                    rows.append(("block", Note([], f"[{word}] {sec.label}".rstrip(), "internal")))
                    flatten(sec.items)
                rows.append(("block", Note([], "[end]", "internal")))

    flatten(seq.items)
    keys = [p.key for p in seq.participants]
    lines = _head(name)
    lines[1] = lines[1].replace("rankdir=TB", "rankdir=TB, newrank=true, ordering=out, splines=true")
    for p in seq.participants:
        shape = 'shape=box, style="rounded,filled", fillcolor="#eef3fb"'
        lines.append(f"  {dot_id(ids[p.key])} [label={_label(p.name, 20)}, {shape}];")
    lines.append("  { rank=same; " + " ".join(dot_id(ids[k]) for k in keys) + " }")
    for a, b in pairwise(keys):
        lines.append(f"  {dot_id(ids[a])} -> {dot_id(ids[b])} [style=invis];")

    def pt(k: str, r: int) -> str:
        return dot_id(f"{ids[k]}__{r}")

    for r in range(len(rows)):
        lines.append("  { rank=same; " + " ".join(f"{pt(k, r)} [shape=point, width=0.03, label=\"\"];" for k in keys) + " }")
    for k in keys:
        chain = [dot_id(ids[k])] + [pt(k, r) for r in range(len(rows))]
        for a, b in pairwise(chain):
            lines.append(f"  {a} -> {b} [arrowhead=none, style=dashed, color=gray60, weight=100];")
    for r, (_kind, item) in enumerate(rows):
        if isinstance(item, Message):
            m = item
            style = {"request": "solid", "response": "dashed", "failure": "dashed", "action": "solid"}[m.style]
            head = "tee" if m.style == "failure" else "normal"
            label = dot_string(f"{r + 1}. " + _wrapped(m.text, WIDTH_EDGE))
            lines.append(
                f"  {pt(m.src, r)} -> {pt(m.dst, r)} [label={label}, style={style}, arrowhead={head}, constraint=false];"
            )
        else:
            note = item
            anchor = note.actors[0] if note.actors else keys[0]
            nid = dot_id(f"note__{r}")
            lines.append(
                f"  {nid} [shape=note, style=filled, fillcolor=\"#fffbe6\", label={_label(note.text, 40)}];"
            )
            lines.append("  { rank=same; " + f"{nid} {pt(anchor, r)}" + " }")
            lines.append(f"  {nid} -> {pt(anchor, r)} [style=invis];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _labels(model: StateGraph | Flowchart | Sequence) -> Iterator[tuple[str, str]]:
    """(what, label) of every text of a diagram model."""
    if isinstance(model, StateGraph):
        for n in model.nodes:
            yield f"state {n.key!r}", n.label
        for e in model.edges:
            yield f"the edge of {e.transition or e.src!r}", e.label
    elif isinstance(model, Flowchart):
        for fn in model.nodes:
            kind, _, key = fn.key.partition(":")  # state:ID, step:ID, guard:ID, failure:ID:ID
            yield f"{kind} {key!r}", fn.text
        for fe in model.edges:
            yield f"the edge from {fe.src!r}", fe.label
    else:
        for p in model.participants:
            yield f"participant {p.key!r}", p.name
        for it in model.walk():
            if isinstance(it, Message):
                yield f"the message of {it.transition!r}", it.text
            elif isinstance(it, Note):
                yield "a note", it.text
            elif isinstance(it, Block):
                for sec in it.sections:
                    yield f"a block of {it.transition!r}", sec.label


def _boxes(model: StateGraph | Flowchart | Sequence) -> int:
    if isinstance(model, (StateGraph, Flowchart)):
        return len(model.nodes)
    return len(model.participants) + sum(1 for _ in model.walk())


def check_svg_limits(model: StateGraph | Flowchart | Sequence) -> None:
    """Refuse a diagram ``dot`` cannot be trusted to lay out in bounded time and memory."""
    n = _boxes(model)
    if n > MAX_SVG_NODES:
        raise RenderError(
            f"the diagram has {n:,} boxes; SVG output is limited to {MAX_SVG_NODES:,} "
            "(Graphviz takes minutes on large graphs): use --format mermaid or --format dot"
        )
    for what, label in _labels(model):
        if len(label) > MAX_LABEL:
            raise RenderError(
                f"{what} has a label of {len(label):,} characters; SVG labels are limited to "
                f"{MAX_LABEL:,} (Graphviz crashes on huge labels): shorten it, or use --format mermaid"
            )


def dot_timeout() -> float:
    """:data:`DOT_TIMEOUT`, or ``FLOWDOC_DOT_TIMEOUT`` when set to a positive number of seconds."""
    raw = os.environ.get("FLOWDOC_DOT_TIMEOUT", "").strip()
    if not raw:
        return DOT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise RenderError(f"FLOWDOC_DOT_TIMEOUT={raw!r}: give a number of seconds greater than 0")
    return value


def _limit_memory() -> None:  # pragma: no cover - runs in the child process
    if resource is None:
        return
    try:
        resource.setrlimit(resource.RLIMIT_AS, (DOT_MEMORY, DOT_MEMORY))
    except (ValueError, OSError):
        pass


def _dot_program() -> str:
    found = shutil.which("dot")
    if found is None:
        raise GraphvizMissing(
            "SVG output needs the Graphviz 'dot' program, which is not installed or not on PATH; "
            "install Graphviz (Debian/Ubuntu: apt-get install graphviz, macOS: brew install graphviz) "
            "or use --format dot or --format mermaid"
        )
    return found


def _failure(proc: subprocess.CompletedProcess) -> RenderError:
    detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    first = f": {detail[0][:300]}" if detail else ""
    if proc.returncode < 0:
        try:
            name = signal.Signals(-proc.returncode).name
        except ValueError:
            name = f"signal {-proc.returncode}"
        return RenderError(f"Graphviz dot crashed ({name}){first}; the diagram may be too large for SVG")
    return RenderError(f"Graphviz dot failed (exit status {proc.returncode}){first}")


def to_svg(dot_source: str, timeout: float | None = None) -> str:
    """Lay out DOT with Graphviz's ``dot`` program, within the limits above.

    Raises :class:`GraphvizMissing` without ``dot`` and :class:`RenderError` when the source
    is too large, ``dot`` runs past ``timeout`` seconds (default :func:`dot_timeout`) or fails.
    """
    data = dot_source.encode("utf-8")
    if len(data) > MAX_DOT_SOURCE:
        raise RenderError(
            f"the DOT source is {len(data):,} bytes; SVG output is limited to {MAX_DOT_SOURCE:,}: "
            "use --format mermaid or --format dot"
        )
    program = _dot_program()
    seconds = dot_timeout() if timeout is None else timeout
    try:
        proc = subprocess.run(
            [program, "-Tsvg"],
            input=data,
            capture_output=True,
            timeout=seconds,
            preexec_fn=_limit_memory if os.name == "posix" else None,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(
            f"Graphviz dot did not finish within {seconds:g} s; the diagram is too large for SVG: "
            "use --format mermaid or --format dot (or set FLOWDOC_DOT_TIMEOUT to wait longer)"
        ) from None
    except OSError as exc:
        raise RenderError(f"Graphviz dot could not run: {exc}") from None
    if proc.returncode != 0:
        raise _failure(proc)
    return proc.stdout.decode("utf-8", "replace")
