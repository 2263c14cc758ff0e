"""Graphviz DOT from the diagram model, and SVG through the ``graphviz`` package and ``dot``.

Text is escaped by :mod:`flowdoc.escape` (``dot_string``: quoted labels, which keep every
character, tabs included, unlike HTML-like labels); every id is a quoted generated id.
"""

from __future__ import annotations

from ..escape import IdMap, dot_id, dot_string, wrap_words
from .diagram import Block, Flowchart, Message, Note, Sequence, StateGraph

WIDTH_NODE = 32
WIDTH_EDGE = 40

FONT = "Helvetica"
FAILURE = 'style="rounded,filled", fillcolor="#fdecea", color="#c62828", fontcolor="#b71c1c"'


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
    rows: list[tuple[str, object]] = []  # ("msg", Message) | ("note", text, actors)

    def flatten(items, prefix: str = "") -> None:
        for it in items:
            if isinstance(it, Message):
                rows.append(("msg", it))
            elif isinstance(it, Note):
                rows.append(("note", it))
            elif isinstance(it, Block):
                for i, sec in enumerate(it.sections):
                    head = {"alt": ("alt", "else"), "par": ("par", "and"), "rect": ("internal", "internal")}[it.kind]
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
    for a, b in zip(keys, keys[1:]):
        lines.append(f"  {dot_id(ids[a])} -> {dot_id(ids[b])} [style=invis];")

    def pt(k: str, r: int) -> str:
        return dot_id(f"{ids[k]}__{r}")

    for r in range(len(rows)):
        lines.append("  { rank=same; " + " ".join(f"{pt(k, r)} [shape=point, width=0.03, label=\"\"];" for k in keys) + " }")
    for k in keys:
        chain = [dot_id(ids[k])] + [pt(k, r) for r in range(len(rows))]
        for a, b in zip(chain, chain[1:]):
            lines.append(f"  {a} -> {b} [arrowhead=none, style=dashed, color=gray60, weight=100];")
    for r, (kind, item) in enumerate(rows):
        if kind == "msg":
            m = item  # type: ignore[assignment]
            style = {"request": "solid", "response": "dashed", "failure": "dashed", "action": "solid"}[m.style]
            head = "tee" if m.style == "failure" else "normal"
            label = dot_string(f"{r + 1}. " + _wrapped(m.text, WIDTH_EDGE))
            lines.append(
                f"  {pt(m.src, r)} -> {pt(m.dst, r)} [label={label}, style={style}, arrowhead={head}, constraint=false];"
            )
        else:
            note = item  # type: ignore[assignment]
            anchor = note.actors[0] if note.actors else keys[0]
            nid = dot_id(f"note__{r}")
            lines.append(
                f"  {nid} [shape=note, style=filled, fillcolor=\"#fffbe6\", label={_label(note.text, 40)}];"
            )
            lines.append("  { rank=same; " + f"{nid} {pt(anchor, r)}" + " }")
            lines.append(f"  {nid} -> {pt(anchor, r)} [style=invis];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(dot_source: str) -> str:
    """Lay out DOT with Graphviz's ``dot`` program; raise :class:`GraphvizMissing` without it."""
    import graphviz

    try:
        out = graphviz.Source(dot_source).pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        raise GraphvizMissing(
            "SVG output needs the Graphviz 'dot' program, which is not installed or not on PATH; "
            "install Graphviz (Debian/Ubuntu: apt-get install graphviz, macOS: brew install graphviz) "
            "or use --format dot or --format mermaid"
        ) from None
    return out
