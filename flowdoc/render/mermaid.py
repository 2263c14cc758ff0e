"""Mermaid source from the diagram model (sequenceDiagram, stateDiagram-v2, flowchart).

All author text goes through :func:`flowdoc.escape.mermaid_label`; all ids through
:class:`flowdoc.escape.IdMap`. Nothing else here knows an escaping rule.
"""

from __future__ import annotations

from ..escape import IdMap, mermaid_label
from .diagram import Block, Flowchart, Message, Note, Sequence, StateGraph

#: Wrap widths (characters) of long labels, per kind of label.
WIDTH_MESSAGE = 70
WIDTH_NOTE = 60
WIDTH_BLOCK = 70
WIDTH_STATE = 32
WIDTH_EDGE = 40
WIDTH_NODE = 32

_ARROWS = {"request": "->>", "response": "-->>", "failure": "--x", "action": "->>"}

FAILURE_STYLE = "fill:#fdecea,stroke:#c62828,color:#b71c1c"
STEP_STYLE = "fill:#f5f5f5,stroke:#757575"
INTERNAL_RECT = "rgb(240, 240, 240)"


def sequence(seq: Sequence) -> str:
    ids = IdMap("p")
    lines = ["sequenceDiagram"]
    if seq.autonumber:
        lines.append("    autonumber")
    for p in seq.participants:
        shape = "actor" if p.person else "participant"
        lines.append(f"    {shape} {ids[p.key]} as {mermaid_label(p.name)}")

    def emit(items, depth: int) -> None:
        pad = "    " * depth
        for it in items:
            if isinstance(it, Message):
                arrow = _ARROWS[it.style]
                lines.append(f"{pad}{ids[it.src]}{arrow}{ids[it.dst]}: {mermaid_label(it.text, WIDTH_MESSAGE)}")
            elif isinstance(it, Note):
                who = ",".join(ids[a] for a in it.actors)
                lines.append(f"{pad}Note over {who}: {mermaid_label(it.text, WIDTH_NOTE)}")
            elif isinstance(it, Block):
                if it.kind == "rect":
                    lines.append(f"{pad}rect {INTERNAL_RECT}")
                    emit(it.sections[0].items, depth + 1)
                elif it.kind == "loop":
                    lines.append(f"{pad}loop {mermaid_label(it.sections[0].label, WIDTH_BLOCK)}".rstrip())
                    emit(it.sections[0].items, depth + 1)
                else:
                    sep = {"alt": "else", "par": "and"}.get(it.kind, "")  # opt: one section
                    for i, sec in enumerate(it.sections):
                        head = it.kind if i == 0 else sep
                        label = mermaid_label(sec.label, WIDTH_BLOCK)
                        lines.append(f"{pad}{head} {label}".rstrip())
                        emit(sec.items, depth + 1)
                lines.append(f"{pad}end")

    emit(seq.items, 1)
    return "\n".join(lines) + "\n"


def state(graph: StateGraph) -> str:
    ids = IdMap("s")
    choice_ids = IdMap("c")
    lines = ["stateDiagram-v2"]

    # each node's id, made in the order of the nodes; None is the start or end pseudo state
    nid: dict[str | None, str] = {None: "[*]"}
    for n in graph.nodes:
        if n.kind == "choice":
            nid[n.key] = choice_ids[n.key]
            lines.append(f"    state {nid[n.key]} <<choice>>")
        else:
            nid[n.key] = ids[n.key]
            lines.append(f'    state "{mermaid_label(n.label, WIDTH_STATE)}" as {nid[n.key]}')
    for e in graph.edges:
        text = f" : {mermaid_label(e.label, WIDTH_EDGE)}" if e.label else ""
        lines.append(f"    {nid[e.src]} --> {nid[e.dst]}{text}")
    failed = [nid[n.key] for n in graph.nodes if n.failure]
    if failed:
        lines.append(f"    classDef failure {FAILURE_STYLE}")
        lines.append(f"    class {','.join(failed)} failure")
    return "\n".join(lines) + "\n"


_SHAPES = {
    "start": ('(["', '"])'),
    "end": ('(["', '"])'),
    "state": ('("', '")'),
    "step": ('["', '"]'),
    "decision": ('{"', '"}'),
}


def flowchart(fc: Flowchart) -> str:
    ids = IdMap("n")
    lines = [f"flowchart {fc.direction}"]
    for n in fc.nodes:
        open_, close = _SHAPES[n.shape]
        lines.append(f"    {ids[n.key]}{open_}{mermaid_label(n.text, WIDTH_NODE)}{close}")
    for e in fc.edges:
        arrow = "-.->" if e.dotted else "-->"
        text = f'|"{mermaid_label(e.label, WIDTH_EDGE)}"|' if e.label else ""
        lines.append(f"    {ids[e.src]} {arrow}{text} {ids[e.dst]}")
    failed = [ids[n.key] for n in fc.nodes if n.failure]
    steps = [ids[n.key] for n in fc.nodes if n.shape == "step"]
    if steps:
        lines.append(f"    classDef step {STEP_STYLE}")
        lines.append(f"    class {','.join(steps)} step")
    if failed:
        lines.append(f"    classDef failure {FAILURE_STYLE}")
        lines.append(f"    class {','.join(failed)} failure")
    return "\n".join(lines) + "\n"
