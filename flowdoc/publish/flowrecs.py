"""The flow records of the build cache: what other pages need of a checked flow file, so that a
build reads and checks only the files that changed (and the few their change can affect).

A record (JSON, in the manifest, by the file's path in the flows folder) holds the sha256 of the
file's bytes and what the index and the pages of other flows show of it: id, version, title,
status, last updated, deprecation (the flow that replaces it), requirements (the flows it
requires), and, with proofs, the digest its proof is compared with. The manifest, and every record
with it, is dropped when the templates, flowdoc's code or the settings change (its ``env_key``).

:func:`check_flows` reads and checks (:func:`~flowdoc.check.validate_file`) the files that are new
or changed, then the checks across the set (:meth:`~flowdoc.catalog.FlowSet.from_checked`) run on
those files and every file their change can affect: the files of every id a changed or removed file
had or has (duplicate id + version, versions of one id), the files that require such an id, and the
files of the ids these require (the candidates). The other files keep the result of the build that
recorded them: nothing they depend on changed. Errors are the full check's, ``FILE:LINE:COL``.

A record stands for its flow as a :class:`FlowStub` (what the index and other flows' pages read); a
flow's pages are made from its full models, read again when they are not in memory
(:meth:`Checked.load`).
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..catalog import FlowFile, FlowSet
from ..check import validate_file
from ..diagnostics import DiagnosticList
from ..model.flow import Flow
from ..proofs import flow_digest
from .errors import PublishError
from .flowread import Render, read_files

__all__ = ["Checked", "FlowStub", "check_flows", "record_of", "records_ok"]

_FIELDS: dict[str, tuple[type, ...]] = {
    "hash": (str,),
    "id": (str,),
    "version": (str, type(None)),
    "title": (str,),
    "status": (str,),
    "updated": (str, type(None)),
    "replaced_by": (str, type(None)),
    "deprecated": (bool,),
    "requires": (dict,),
    "proof": (str, type(None)),
}


class _Ref:
    """A requirement or a deprecation as other flows' pages read it: the flow it names."""

    __slots__ = ("flow", "replaced_by")

    def __init__(self, flow: str) -> None:
        self.flow = self.replaced_by = flow


class FlowStub:
    """A checked flow file known from its record (see the module): what the index, the keys and the
    pages of other flows read of it, with the same attribute names as :class:`~flowdoc.model.flow.Flow`."""

    __slots__ = ("id", "version", "title", "status", "updated", "deprecation", "requires", "file", "proof_digest")

    def __init__(self, rec: Mapping[str, Any], file: str) -> None:
        self.id: str = rec["id"]
        self.version: str | None = rec["version"]
        self.title: str = rec["title"]
        self.status: str = rec["status"]
        self.updated = _dt.date.fromisoformat(rec["updated"]) if rec["updated"] else None
        self.deprecation = _Ref(rec["replaced_by"]) if rec["deprecated"] else None
        self.requires = {name: _Ref(fid) for name, fid in rec["requires"].items()}
        self.file = file
        self.proof_digest: str | None = rec["proof"]


def record_of(flow: Flow, file_hash: str, *, proofs: bool) -> dict[str, Any]:
    """The record of a valid flow (see the module)."""
    dep = flow.deprecation
    return {
        "hash": file_hash,
        "id": flow.id,
        "version": flow.version,
        "title": flow.title,
        "status": str(getattr(flow.status, "value", flow.status)),
        "updated": flow.updated.isoformat() if flow.updated else None,
        "replaced_by": dep.replaced_by if dep else None,
        "deprecated": dep is not None,
        "requires": {name: r.flow for name, r in flow.requires.items()},
        "proof": flow_digest(flow) if proofs else None,
    }


def records_ok(records: object) -> bool:
    """Records as a build writes them (a cache that is not is not used)."""
    if not isinstance(records, dict):
        return False
    for rec in records.values():
        if not isinstance(rec, dict) or set(rec) != set(_FIELDS):
            return False
        if not all(isinstance(rec[k], types) for k, types in _FIELDS.items()):
            return False
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in rec["requires"].items()):
            return False
        try:
            _dt.date.fromisoformat(rec["updated"] or "2000-01-01")
        except ValueError:
            return False
    return True


@dataclass
class Checked:
    """The flows of the folder after :func:`check_flows`."""

    #: every valid flow file, in file order, as a stub (its model: :meth:`load`)
    flows: list[FlowStub]
    #: file path -> record of every valid flow file, for the next build
    records: dict[str, dict]
    #: how many files this build read and checked
    checked: int = 0
    #: models in memory (file -> flow): files read this build, until their pages are made
    models: dict[str, Flow] = field(default_factory=dict)
    #: file -> the pages of its flow, made as it was read (:func:`~.flowread.standalone`)
    early: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def load(self, stub: Flow | FlowStub) -> Flow:
        """The full model of a flow (read again when it is not in memory)."""
        if isinstance(stub, Flow):
            return stub
        flow = self.models.pop(stub.file, None)  # a model is used once: its flow's pages are made once
        if flow is None:
            flow, _ = validate_file(stub.file)
        if flow is None or flow.id != stub.id or flow.version != stub.version:
            raise RuntimeError(f"{stub.file} changed while the site was built")  # the build is run again
        return flow


def check_flows(flows_dir: Path, files: list[Path], file_hashes: Mapping[str, str],
                cached: Mapping[str, dict], *, proofs: bool = False, render: Render | None = None,
                progress: Any = None) -> Checked:
    """Check the flow files, reading only what changed (see the module); :class:`PublishError` with
    every error, ``FILE:LINE:COL``, when a file is not a valid flow. ``render``: makes the pages of a
    flow that reads nothing of other files while it is read (:mod:`.flowread`). ``progress``: a
    :class:`~flowdoc.publish.settings.Reporter` told of the files read."""
    rels = {f.relative_to(flows_dir).as_posix(): f for f in files}
    fresh = [r for r in rels if r not in cached or cached[r]["hash"] != file_hashes[r]]
    jobs = [(rels[r], file_hashes[r]) for r in fresh]
    if progress is not None and jobs:
        progress.start(len(jobs), "Checking flows")
    try:
        read = read_files(jobs, functools.partial(_record, proofs=proofs), render,
                          progress.advance if progress is not None and jobs else lambda n: None)
    finally:
        if progress is not None and jobs:
            progress.finish()
    got = dict(zip(fresh, read, strict=True))
    current = {r: cached[r] for r in rels if r not in got and r in cached}
    current.update((r, x.record) for r, x in got.items() if x.record is not None)
    touched = {cached[r]["id"] for r in cached if r in got or r not in rels}
    touched.update(x.record["id"] for x in got.values() if x.record is not None)
    scope = _scope(touched, set(got), current)
    result = Checked([], {}, checked=len(got))
    entries: list[FlowFile] = []
    for r, path in rels.items():  # in file order, as the full check
        x = got.get(r)
        if x is not None and x.record is None:
            entries.append(FlowFile(x.name, None, x.diagnostics or DiagnosticList(x.name)))
        elif x is not None and x.flow is not None:
            entries.append(FlowFile(x.name, x.flow, DiagnosticList(x.name)))
        elif r in scope:
            flow, diags = validate_file(path)
            result.checked += x is None
            entries.append(FlowFile(str(path), flow, diags))
        if x is not None and x.pages is not None:
            result.early[x.name] = x.pages
    catalog = FlowSet.from_checked(entries, read={str(f.parent) for f in files})
    if catalog.invalid:
        errors = catalog.errors
        n = len({d.file for d in errors})
        raise PublishError(f"{n} invalid flow file{'s' if n != 1 else ''} in {flows_dir}", errors)
    result.models = {f.file: f for f in catalog.flows}
    result.records = {r: current[r] for r in rels if r in current}
    result.flows = [FlowStub(rec, str(rels[r])) for r, rec in result.records.items()]
    return result


def _record(flow: Flow, file_hash: str, *, proofs: bool) -> dict:
    return record_of(flow, file_hash, proofs=proofs)


def _scope(touched: set[str], fresh: set[str], records: Mapping[str, dict]) -> set[str]:
    """The valid files the checks across the set must see again (see the module): every file of a
    touched id that has several (one id + version is defined once), the files that require a touched
    id or are new, and every file of the ids these require, directly or not (the candidates: each is
    checked again, so its own requirements must be there)."""
    files_of: dict[str, list[str]] = {}
    for r, rec in records.items():
        files_of.setdefault(rec["id"], []).append(r)
    scope = {r for fid in touched if len(files_of.get(fid, ())) > 1 for r in files_of[fid]}
    todo: list[str] = []
    for r, rec in records.items():
        req = set(rec["requires"].values())
        if req and (r in fresh or not req.isdisjoint(touched)):
            scope.add(r)
            todo += req
    seen = set(todo)
    while todo:
        for r in files_of.get(todo.pop(), ()):
            scope.add(r)
            for dep in records[r]["requires"].values():
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
    return scope
