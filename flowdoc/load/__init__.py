"""Load: files on disk → plain values with a source map → :class:`~flowdoc.model.Flow`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from ..diagnostics import DiagnosticList
from ..model.build import build_flow
from ..model.flow import Flow
from .yamlsafe import SourceMap, YamlError, decode, parse_yaml

FLOW_SUFFIXES = (".yaml", ".yml")

__all__ = ["SourceMap", "discover", "read_flow", "read_flow_text", "FLOW_SUFFIXES"]


def discover(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[str]]:
    """Expand files and folders into flow files (sorted); also return the paths that do not exist."""
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.suffix in FLOW_SUFFIXES and f.is_file()))
        elif p.is_file():
            files.append(p)
        else:
            missing.append(str(raw))
    return files, missing


def read_flow_text(text_or_bytes: str | bytes, file: str = "<string>") -> tuple[Flow | None, DiagnosticList]:
    """Parse and model one flow from its text; never raises for bad input."""
    diags = DiagnosticList(file)
    try:
        data = text_or_bytes if isinstance(text_or_bytes, bytes) else text_or_bytes.encode("utf-8", "surrogatepass")
        text = decode(data, diags)
        value, source = parse_yaml(text, diags)
    except YamlError:
        return None, diags
    if diags.errors:
        # keep modelling to report every problem at once, but the result is invalid
        build_flow(value, source, diags)
        return None, diags
    flow = build_flow(value, source, diags)
    return flow, diags


def read_flow(path: str | os.PathLike[str]) -> tuple[Flow | None, DiagnosticList]:
    """Read one flow file. Returns the flow (None when invalid) and its diagnostics."""
    file = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        diags = DiagnosticList(file)
        diags.add("io-error", f"cannot read the file: {exc.strerror or exc}")
        return None, diags
    flow, diags = read_flow_text(data, file)
    return flow, diags
