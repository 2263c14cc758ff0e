"""What each generated flow page costs in a full ``flowdoc build``, stage by stage.

    python benchmarks/bench_pages.py            # 200 generated flows (benchmarks/flowgen.py)
    python benchmarks/bench_pages.py 100 --keep OUT

One full build of N generated flows with the default project (site/mkdocs.yml), timing, per
page, the parts a flow page costs:

  render      flowdoc's Markdown page (flowdoc.render.render_page: page data, Jinja2 templates)
  markdown    Python-Markdown's convert of a page (MkDocs' Page.render)
  csp         the Content-Security-Policy of a page (flowdoc.publish.csp.add_csp)
  search      MkDocs' search plugin reading a page (add_entry_from_context)

(CPU time of this process, which a busy machine changes less than wall time) and the build's
own stage timings (BuildResult.timings, wall time). Only informative: it asserts nothing.
``--keep OUT`` copies the built site and the staged Markdown to OUT (to compare two versions).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

import markdown.core  # noqa: E402
from mkdocs.contrib.search import search_index  # noqa: E402

import flowdoc.render  # noqa: E402
from flowdoc.publish import BuildSettings, build_site, pagemeta  # noqa: E402
from flowgen import generate_flows  # noqa: E402

LOCAL_MERMAID = ROOT / "tests" / "node" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"


@contextmanager
def timed_attr(owner: Any, name: str, sink: list[float]) -> Iterator[None]:
    """Time every call of ``owner.name`` into ``sink`` while the block runs."""
    original: Callable = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            sink.append(time.process_time() - t)

    setattr(owner, name, wrapper)
    try:
        yield
    finally:
        setattr(owner, name, original)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("flows", nargs="?", type=int, default=200)
    ap.add_argument("--keep", type=Path, help="copy the site and the staged Markdown here")
    args = ap.parse_args(argv)
    times: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="flowdoc-pages-") as tmp:
        base = Path(tmp)
        generate_flows(base / "flows", args.flows)
        settings = BuildSettings(
            flows_dir=base / "flows",
            out_dir=base / "out" / "site",
            config_file=ROOT / "site" / "mkdocs.yml",
            mermaid_js=str(LOCAL_MERMAID) if LOCAL_MERMAID.is_file() else None,
        )
        with ExitStack() as stack:
            stack.enter_context(timed_attr(flowdoc.render, "render_page", times["render"]))
            stack.enter_context(timed_attr(markdown.core.Markdown, "convert", times["markdown"]))
            stack.enter_context(timed_attr(pagemeta, "add_csp", times["csp"]))
            stack.enter_context(timed_attr(search_index.SearchIndex, "add_entry_from_context", times["search"]))
            t, cpu = time.perf_counter(), time.process_time()
            result = build_site(settings)
            total, cpu = time.perf_counter() - t, time.process_time() - cpu
        print(f"{args.flows} flows: full build {total:.2f} s ({cpu:.2f} s of CPU in this process)")
        print("  stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items()))
        for name, values in times.items():
            if values:
                print(f"  {name:<9} {len(values):5d} calls  {sum(values):7.2f} s  {1000 * sum(values) / len(values):7.2f} ms each")
        if args.keep:
            shutil.rmtree(args.keep, ignore_errors=True)
            shutil.copytree(base / "out" / "site", args.keep / "site")
            shutil.copytree(settings.cache_path / "docs", args.keep / "docs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
