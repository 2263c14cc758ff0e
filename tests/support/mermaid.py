"""Parse Mermaid diagrams with the real Mermaid (11.17.2, pinned in tests/node/package.json).

    from tests.support.mermaid import parse_mermaid
    [result] = parse_mermaid(["sequenceDiagram\n  A->>B: hi\n"])
    assert result["ok"], result["error"]
    result["labels"]["messages"][0]["text"]  # -> "hi"

One ``node tests/node/mermaid_check.mjs`` process is started per call, whatever the number of
sources (Node + Mermaid + jsdom start in ~1-2 s; each diagram then takes milliseconds), so
batch diagrams into one call where you can.

Each result is ``{"ok": True, "type": ..., "labels": {...}}`` or
``{"ok": False, "error": "Parse error on line N: ...", "errorName": ..., "line": N}``.
In ``labels`` every label has ``text`` (what a reader of the rendered diagram sees: Mermaid's
entity codes such as ``#59;`` are decoded) and ``raw`` (the source form, ``#59;`` kept).
See the header of tests/node/mermaid_check.mjs for the exact shape per diagram type.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
CHECKER = NODE_DIR / "mermaid_check.mjs"


class MermaidHarnessError(RuntimeError):
    """The Node harness is missing or crashed (not: a diagram failed to parse)."""


def node_executable() -> str:
    node = os.environ.get("FLOWDOC_NODE") or shutil.which("node")
    if not node:
        raise MermaidHarnessError(
            "node is not on PATH; the Mermaid checker needs Node.js >= 20 "
            "(then run: npm ci --prefix tests/node)"
        )
    return node


def ensure_node_modules(*packages: str) -> None:
    """Raise a clear error if ``npm ci --prefix tests/node`` has not been run."""
    missing = [p for p in packages if not (NODE_DIR / "node_modules" / p / "package.json").is_file()]
    if missing:
        raise MermaidHarnessError(
            f"Node test dependencies missing in {NODE_DIR / 'node_modules'} "
            f"({', '.join(missing)}): run `npm ci --prefix tests/node`"
        )


def parse_mermaid(sources: list[str], *, timeout: float = 300.0) -> list[dict]:
    """Parse every source with Mermaid in one Node process; return one dict per source."""
    sources = list(sources)
    if not all(isinstance(s, str) for s in sources):
        raise TypeError("parse_mermaid expects a list of strings")
    if not sources:
        return []
    ensure_node_modules("mermaid", "jsdom")
    proc = subprocess.run(
        [node_executable(), str(CHECKER)],
        input=json.dumps(sources),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        cwd=str(NODE_DIR),
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-30:])
        raise MermaidHarnessError(
            f"mermaid_check.mjs exited with {proc.returncode}:\n{tail}"
        )
    try:
        results = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise MermaidHarnessError(
            f"mermaid_check.mjs printed no JSON ({exc}); stdout starts {proc.stdout[:500]!r}; "
            f"stderr tail: {proc.stderr[-2000:]}"
        ) from exc
    if len(results) != len(sources):
        raise MermaidHarnessError(
            f"mermaid_check.mjs returned {len(results)} results for {len(sources)} sources"
        )
    return results


def parse_one(source: str) -> dict:
    """Convenience wrapper for a single diagram (prefer batching with parse_mermaid)."""
    return parse_mermaid([source])[0]
