"""Load: files on disk → plain values with a source map → :class:`~flowdoc.model.Flow`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..diagnostics import DiagnosticList
from ..model.build import build_flow
from ..model.flow import Flow
from .yamlsafe import SourceMap, YamlError, decode, parse_yaml

FLOW_SUFFIXES = (".yaml", ".yml")

__all__ = ["SourceMap", "discover", "read_flow", "read_flow_text", "walk_files", "FLOW_SUFFIXES"]


def walk_files(folder: str | os.PathLike[str], keep_dir: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """Every entry that is not a folder under ``folder``, following links to files and folders.

    Each is named by its path under ``folder`` (a link's own path, never its target). A folder
    reached again (a link loop, or a second link to one folder) is walked once, first in sorted
    order; ``keep_dir(path)`` False leaves a folder out."""
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        try:
            st = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:
            dirnames[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if keep_dir is None or keep_dir(d / n))
        for name in sorted(filenames):
            yield d / name


def discover(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[str]]:
    """Expand files and folders into flow files (sorted); also return the paths that do not exist.

    Links to flow files and folders are followed; a flow file is named by its path in the
    folder given (the link's own path), never by its target (see :func:`walk_files`)."""
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(sorted(f for f in walk_files(p) if f.suffix in FLOW_SUFFIXES and f.is_file()))
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
