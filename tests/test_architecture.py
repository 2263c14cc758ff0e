"""The shape of the package: no import cycles, and imports at the top of modules.

The import graph is built from the source (ast), without importing anything: an edge goes from a
module to each flowdoc module it imports (``from .x import y`` is an edge to ``x.y`` when that is a
module, else to ``x``, whose ``__init__`` defines ``y``). Imports under ``if TYPE_CHECKING:`` are
not edges (they never run). A cycle is a strongly connected component of more than one module, or
a module importing itself.

Imports inside functions and classes are allowed only for the CLI's lazy command loading in
flowdoc/cli/__init__.py (``importlib.import_module``, which this check does not see as an import),
and the package's public names in flowdoc/__init__.py (PEP 562 ``__getattr__``, so that
``flowdoc --version`` builds no model; tests/test_startup.py);
:data:`ALLOWED_LOCAL` lists any other exception with its reason (none today).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "flowdoc"

#: (module, imported name) → why it is imported where it is used (empty: every import is at the top)
ALLOWED_LOCAL: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _target(mod: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


class ImportScan(ast.NodeVisitor):
    """The flowdoc imports of one module (top level, outside TYPE_CHECKING) and its local imports."""

    def __init__(self, mod: str, is_pkg: bool, known: set[str]):
        self.mod, self.is_pkg, self.known = mod, is_pkg, known
        self.edges: set[str] = set()
        self.local: list[tuple[int, str]] = []
        self.depth = 0

    def _scope(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = _scope

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def _record(self, node: ast.AST, names: list[str]) -> None:
        if self.depth:
            self.local.append((node.lineno, ast.unparse(node)))  # type: ignore[attr-defined]
            return
        self.edges.update(n for n in names if n.split(".")[0] == "flowdoc")

    def visit_Import(self, node: ast.Import) -> None:
        self._record(node, [a.name for a in node.names])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        target = _target(self.mod, self.is_pkg, node)
        names = []
        for alias in node.names:
            full = f"{target}.{alias.name}"
            names.append(full if full in self.known else target)
        self._record(node, names)


def scan() -> tuple[dict[str, set[str]], dict[str, list[tuple[int, str]]]]:
    mods = modules()
    graph, local = {}, {}
    for name, path in mods.items():
        s = ImportScan(name, path.name == "__init__.py", set(mods))
        s.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        graph[name] = {e for e in s.edges if e in mods}
        local[name] = s.local
    return graph, local


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module, and self-imports (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1 or v in graph[v]:
                        found.append(sorted(comp))
    return found


def test_the_scan_sees_cycles_and_local_imports():
    """The checks below can fail: a cycle and a local import are found in a made-up graph and module."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"a"}}) == [["a"]] and cycles({"a": {"b"}, "b": set()}) == []
    s = ImportScan("flowdoc.x.y", False, {"flowdoc.x.z"})
    s.visit(ast.parse(textwrap.dedent("""
        from typing import TYPE_CHECKING
        from .z import thing
        from .. import name
        if TYPE_CHECKING:
            from .w import only_typing
        def f():
            from .q import late
    """)))
    assert s.edges == {"flowdoc.x.z", "flowdoc"}
    assert s.local == [(8, "from .q import late")]


def test_no_import_cycles():
    graph, _ = scan()
    assert len(graph) > 50, "the scan found too few modules"
    assert any("flowdoc.catalog" in deps for deps in graph.values())
    assert cycles(graph) == []


def test_imports_at_the_top_of_modules():
    _, local = scan()
    found = [f"{mod}:{line}: {text}" for mod, items in local.items() for line, text in items
             if (mod, text) not in ALLOWED_LOCAL]
    assert found == [], "import at the top of the module (or add to ALLOWED_LOCAL with the reason):\n" + "\n".join(found)


def test_the_cli_loads_commands_lazily():
    """The one exception: flowdoc/cli/__init__.py loads a command's module when it is used."""
    source = (PACKAGE / "cli" / "__init__.py").read_text(encoding="utf-8")
    assert "importlib.import_module" in source
    graph, _ = scan()
    assert not any(m.startswith("flowdoc.cli.") and m != "flowdoc.cli._common" for m in graph["flowdoc.cli"])


def test_every_module_imports_first_in_a_fresh_interpreter():
    """No cycle hides in the order packages initialise: each module imported first, alone."""
    names = sorted(modules())
    code = textwrap.dedent(f"""
        import importlib, sys
        failed = []
        for name in {names!r}:
            for k in [k for k in sys.modules if k == "flowdoc" or k.startswith("flowdoc.")]:
                del sys.modules[k]
            try:
                importlib.import_module(name)
            except Exception as exc:
                failed.append(f"{{name}}: {{type(exc).__name__}}: {{exc}}")
        print("\\n".join(failed))
    """)
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == ""
