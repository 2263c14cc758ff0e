"""Load: files on disk → plain values with a source map → :class:`~flowdoc.model.Flow`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

from ..diagnostics import DiagnosticList
from ..model.build import build_flow
from ..model.flow import Flow
from .yamlsafe import SourceMap, parse_yaml
from .yamltext import MAX_BYTES, YamlError, decode, too_large

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


_FLOW_KEYS = frozenset(fi.alias or name for name, fi in Flow.model_fields.items())


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a line of text"
    if value is None:
        return "nothing"
    return "a single value"


def not_a_flow(value: object, source: SourceMap, diags: DiagnosticList) -> bool:
    """Report a file that is not a flow, in one diagnostic that quotes none of its content.

    A file is a flow when its top is a mapping with at least one key of the format. Any other
    file (an env file, a compose file, a key list) may hold secrets: what was said about its
    values while reading it is dropped, and the message names only the file and the problem.
    """
    if isinstance(value, dict) and _FLOW_KEYS.intersection(k for k in value if isinstance(k, str)):
        return False
    if isinstance(value, dict):
        problem = "it is a mapping with none of the keys of a flow (id, title, actors, states, transitions)"
    else:
        problem = f"its top is {_kind(value)}, not a mapping of id, title, actors, states, transitions"
    diags.items.clear()
    diags.add("not-a-flow", f"this file is not a flow: {problem}", source.value(()) or (1, 1),
              help="point flowdoc at flow files (start from an example in flows/); the file's content is not shown")
    return True


def read_flow_text(text_or_bytes: str | bytes, file: str = "<string>") -> tuple[Flow | None, DiagnosticList]:
    """Parse and model one flow from its text; never raises for bad input."""
    diags = DiagnosticList(file)
    try:
        data = text_or_bytes if isinstance(text_or_bytes, bytes) else text_or_bytes.encode("utf-8", "surrogatepass")
        text = decode(data, diags)
        value, source = parse_yaml(text, diags, positions=False)  # read again only for a diagnostic
    except YamlError:
        return None, diags
    if not_a_flow(value, source, diags):
        return None, diags
    if diags.errors:
        # keep modelling to report every problem at once, but the result is invalid
        build_flow(value, source, diags)
        return None, diags
    flow = build_flow(value, source, diags)
    return flow, diags


def _read_bounded(fh: BinaryIO) -> tuple[bytes, int]:
    """A file's bytes, never more than the limit in memory whatever the file (at most MAX_BYTES + 1
    read), and its size: the larger of what fstat says and what was read.

    A file whose size fstat knows is read into a buffer of that size (a buffer of the limit would
    cost more than a small flow's reading); one that grew meanwhile, or whose size is unknown (a
    pipe, a file of /proc) is read on to the limit."""
    known = os.fstat(fh.fileno()).st_size
    data = fh.read(min(known, MAX_BYTES) + 1)
    if known < len(data) <= MAX_BYTES:
        data += fh.read(MAX_BYTES + 1 - len(data))
    return data, max(known, len(data))


def read_flow(path: str | os.PathLike[str]) -> tuple[Flow | None, DiagnosticList]:
    """Read one flow file. Returns the flow (None when invalid) and its diagnostics."""
    file = str(path)
    try:
        with open(path, "rb") as fh:
            data, size = _read_bounded(fh)
    except OSError as exc:
        diags = DiagnosticList(file)
        diags.add("io-error", f"cannot read the file: {exc.strerror or exc}")
        return None, diags
    if size > MAX_BYTES:
        diags = DiagnosticList(file)
        too_large(size, diags)
        return None, diags
    flow, diags = read_flow_text(data, file)
    return flow, diags
