"""Generate N distinct, valid flow files from the examples (for benchmarks)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "flows").glob("*.yaml"))


def generate_flows(dest: Path, n: int = 1000) -> list[Path]:
    """Write n flows to dest: copies of the standalone examples with distinct ids and versions."""
    dest.mkdir(parents=True, exist_ok=True)
    texts = [p.read_text(encoding="utf-8") for p in EXAMPLES if "requires:" not in p.read_text(encoding="utf-8")]
    out = []
    for i in range(n):
        text = texts[i % len(texts)]
        text = re.sub(r"^id: (.+)$", lambda m, i=i: f"id: {m.group(1)}-{i:04d}", text, count=1, flags=re.M)
        text = text.replace("title: ", f"title: Copy {i} of ", 1)
        p = dest / f"flow-{i:04d}.yaml"
        p.write_text(text, encoding="utf-8")
        out.append(p)
    return out
