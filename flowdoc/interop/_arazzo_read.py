"""Read an Arazzo description for import: flowdoc's positioned YAML reader, then the structure
an import needs, every problem as FILE:LINE:COL. OpenAPI descriptions the steps call are read
only from local files beside it (never fetched), to learn each operation's method and path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..diagnostics import DiagnosticList
from ..load.yamlsafe import SourceMap, parse_yaml
from ..load.yamltext import YamlError, decode
from ._expr import unpointer

_VERSION = re.compile(r"^1\.0\.\d+(-.+)?$")
_OP_PATH = re.compile(r"^\{\$sourceDescriptions\.([A-Za-z0-9_-]+)\.url\}#(/paths/[^#]*)$")
_OP_ID = re.compile(r"^\$sourceDescriptions\.([A-Za-z0-9_-]+)\.(.+)$")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class ArazzoReadError(Exception):
    """The file is not an Arazzo 1.0 description an import can use; ``diagnostics`` say where."""

    def __init__(self, diags: DiagnosticList):
        self.diagnostics = diags.items
        first = diags.items[0] if diags.items else None
        super().__init__(f"{first.location}: {first.message}" if first else "not an Arazzo description")


@dataclass
class Operation:
    source: str | None
    method: str | None
    path: str | None
    servers: list[str] = field(default_factory=list)
    problem: str | None = None  # why method or path is unknown


@dataclass
class ArazzoDoc:
    file: str
    data: dict
    source: SourceMap
    folder: Path
    openapi: dict[str, dict | str] = field(default_factory=dict)  # source name → document or why not

    def pos(self, *path: Any) -> tuple[int, int] | None:
        return self.source.value(path)

    # ---------------------------------------------------------------- operations
    def operation(self, step: dict) -> Operation:
        if isinstance(step.get("operationPath"), str):
            return self._by_path(step["operationPath"])
        op_id = step.get("operationId")
        if isinstance(op_id, str):
            m = _OP_ID.match(op_id)
            names = [m.group(1)] if m else [s["name"] for s in self.sources()]
            wanted = m.group(2) if m else op_id
            for name in names:
                found = self._find_operation(name, wanted)
                if found is not None:
                    return found
            why = "; ".join(f"{n}: {self.openapi[n]}" for n in names if isinstance(self.openapi.get(n), str))
            return Operation(names[0] if len(names) == 1 else None, None, None,
                             problem=f"operationId '{op_id}' not found" + (f" ({why})" if why else ""))
        return Operation(None, None, None, problem="the step calls a workflow, not an operation")

    def _by_path(self, op_path: str) -> Operation:
        m = _OP_PATH.match(op_path)
        if not m:
            return Operation(None, None, None, problem=f"operationPath '{op_path}' is not "
                             "{$sourceDescriptions.NAME.url}#/paths/...")
        parts = unpointer(m.group(2))
        if len(parts) != 3 or parts[2].lower() not in METHODS:
            return Operation(m.group(1), None, None, problem="operationPath does not name a path and method")
        return Operation(m.group(1), parts[2].lower(), parts[1], self._servers(m.group(1)))

    def sources(self) -> list[dict]:
        return [s for s in self.data.get("sourceDescriptions") or [] if isinstance(s, dict)]

    def _servers(self, name: str) -> list[str]:
        doc = self._openapi(name)
        if not isinstance(doc, dict):
            return []
        return [s["url"] for s in doc.get("servers") or [] if isinstance(s, dict) and isinstance(s.get("url"), str)]

    def _find_operation(self, name: str, op_id: str) -> Operation | None:
        doc = self._openapi(name)
        if not isinstance(doc, dict):
            return None
        for path, item in (doc.get("paths") or {}).items():
            if not isinstance(item, dict):
                continue
            for method, op in item.items():
                if method in METHODS and isinstance(op, dict) and op.get("operationId") == op_id:
                    return Operation(name, method, path, self._servers(name))
        return None

    def _openapi(self, name: str) -> dict | str:
        if name in self.openapi:
            return self.openapi[name]
        sd = next((s for s in self.sources() if s.get("name") == name), None)
        self.openapi[name] = doc = _read_openapi(self.folder, sd)
        return doc


def _read_openapi(folder: Path, sd: dict | None) -> dict | str:
    """A local OpenAPI description (a dict), or the reason it was not read (a str)."""
    if sd is None:
        return "no such source description"
    url = sd.get("url")
    if not isinstance(url, str) or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url):
        return f"'{url}' is not a local file (flowdoc never fetches descriptions)"
    path = (folder / url.split("#", 1)[0]).resolve()
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot read {url}: {exc.strerror or exc}"
    diags = DiagnosticList(str(path))
    try:
        value, _ = parse_yaml(decode(data, diags), diags)
    except YamlError:
        return f"{url} is not valid YAML"
    if diags.errors or not isinstance(value, dict):
        return f"{url} is not an OpenAPI description"
    return value


# -------------------------------------------------------------------- reading

def read_arazzo(path: str | Path) -> ArazzoDoc:
    """Read and check an Arazzo 1.0.x description; raise :class:`ArazzoReadError` with positions."""
    file = str(path)
    diags = DiagnosticList(file)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        diags.add("io-error", f"cannot read the file: {exc.strerror or exc}")
        raise ArazzoReadError(diags) from None
    try:
        value, source = parse_yaml(decode(data, diags), diags)
    except YamlError:
        raise ArazzoReadError(_arazzo_help(diags)) from None
    if diags.errors:
        raise ArazzoReadError(_arazzo_help(diags))
    _check(value, source, diags)
    if diags.errors:
        raise ArazzoReadError(diags)
    return ArazzoDoc(file, value, source, Path(path).resolve().parent)


def _arazzo_help(diags: DiagnosticList) -> DiagnosticList:
    """The YAML reader's hints speak of flow files; say what an Arazzo file needs instead."""
    for i, d in enumerate(diags.items):
        if d.help and "flows/" in d.help:
            diags.items[i] = replace(d, help="an Arazzo description starts with 'arazzo: 1.0.1', then 'info', "
                                             "'sourceDescriptions' and 'workflows'")
    return diags


def _check(value: Any, source: SourceMap, diags: DiagnosticList) -> None:
    def at(*p: Any) -> tuple[int, int]:
        return source.value(p) or (1, 1)

    if not _check_root(value, at, diags):
        return
    info = value.get("info")
    if not isinstance(info, dict) or not isinstance(info.get("title"), str):
        diags.add("arazzo-invalid", "'info' needs a 'title'", at("info"))
    _check_list(value, "sourceDescriptions", ("name", "url"), at, diags)
    for i, wf in _check_list(value, "workflows", ("workflowId",), at, diags):
        _check_steps(i, wf, at, diags)


def _check_root(value: Any, at, diags: DiagnosticList) -> bool:
    """Is it an Arazzo mapping at all (False stops the checks), and of a version flowdoc reads?"""
    if not isinstance(value, dict):
        diags.add("not-arazzo", "not an Arazzo description: the file is not a mapping", at(),
                  help="an Arazzo description starts with 'arazzo: 1.0.1', 'info', 'sourceDescriptions', 'workflows'")
        return False
    version = value.get("arazzo")
    if version is None:
        other = next((k for k in ("openapi", "swagger", "asyncapi", "flowdoc", "transitions") if k in value), None)
        hint = {"openapi": "an OpenAPI description", "swagger": "a Swagger description",
                "asyncapi": "an AsyncAPI description"}.get(other or "", "a flowdoc flow" if other else "")
        diags.add("not-arazzo", "not an Arazzo description: it has no 'arazzo' key"
                  + (f" (this looks like {hint})" if hint else ""), at(),
                  help="give an Arazzo 1.0.x file; it starts with 'arazzo: 1.0.1'")
        return False
    if not isinstance(version, str) or not _VERSION.match(version):
        diags.add("arazzo-version", f"Arazzo version {version!r} is not supported; flowdoc reads Arazzo 1.0.x",
                  at("arazzo"), help="write the version as a quoted string, e.g. arazzo: \"1.0.1\""
                  if not isinstance(version, str) else "flowdoc imports Arazzo 1.0.0 and 1.0.1 descriptions")
    return True


def _check_steps(i: int, wf: dict, at, diags: DiagnosticList) -> None:
    steps = wf.get("steps")
    if not isinstance(steps, list) or not steps:
        diags.add("arazzo-invalid", f"workflow '{wf.get('workflowId')}' needs a non-empty list 'steps'",
                  at("workflows", i, "steps"))
        return
    for j, st in enumerate(steps):
        if not isinstance(st, dict) or not isinstance(st.get("stepId"), str):
            diags.add("arazzo-invalid", "a step needs a 'stepId'", at("workflows", i, "steps", j))
        elif sum(k in st for k in ("operationId", "operationPath", "workflowId")) != 1:
            diags.add("arazzo-invalid", f"step '{st['stepId']}' needs exactly one of operationId, "
                      "operationPath or workflowId", at("workflows", i, "steps", j))


def _check_list(value: dict, key: str, required: tuple[str, ...], at, diags: DiagnosticList) -> list[tuple[int, dict]]:
    items = value.get(key)
    if not isinstance(items, list) or not items:
        diags.add("arazzo-invalid", f"'{key}' must be a non-empty list", at(key) if key in value else at())
        return []
    out = []
    for i, item in enumerate(items):
        missing = [r for r in required if not isinstance(item, dict) or not isinstance(item.get(r), str)]
        if missing:
            diags.add("arazzo-invalid", f"{key}[{i}] needs '{missing[0]}'", at(key, i))
        else:
            out.append((i, item))
    return out
