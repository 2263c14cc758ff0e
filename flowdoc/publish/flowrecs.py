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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..catalog import FlowFile, FlowSet
from ..check import validate_file
from ..model.flow import Flow
from ..proofs import flow_digest
from .errors import PublishError

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
    #: the files read and checked by this build
    checked: list[str] = field(default_factory=list)
    #: models in memory (file -> flow): the files read this build, until their pages are made
    models: dict[str, Flow] = field(default_factory=dict)

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
                cached: Mapping[str, dict], *, proofs: bool = False) -> Checked:
    """Check the flow files, reading only what changed (see the module); :class:`PublishError` with
    every error, ``FILE:LINE:COL``, when a file is not a valid flow."""
    rels = {f.relative_to(flows_dir).as_posix(): f for f in files}
    fresh = [r for r in rels if r not in cached or cached[r]["hash"] != file_hashes[r]]
    read = {r: _read(rels[r]) for r in fresh}
    current = {r: cached[r] for r in rels if r not in read and r in cached}
    for r, entry in read.items():
        if entry.flow is not None:
            current[r] = record_of(entry.flow, file_hashes[r], proofs=proofs)
    touched = {cached[r]["id"] for r in cached if (r in read or r not in rels)} | {
        current[r]["id"] for r in read if r in current}
    scope = _scope(touched, current) | set(read)
    for r in sorted(scope - set(read)):
        read[r] = _read(rels[r])
    ordered = [read[r] for r in rels if r in scope]
    catalog = FlowSet.from_checked(ordered, read={str(f.parent) for f in files})
    if catalog.invalid:
        errors = catalog.errors
        n = len({d.file for d in errors})
        raise PublishError(f"{n} invalid flow file{'s' if n != 1 else ''} in {flows_dir}", errors)
    models = {f.file: f for f in catalog.flows}
    records = {r: current[r] for r in rels if r in current}
    out = [FlowStub(records[r], str(rels[r])) for r in records]
    return Checked(out, records, [entry.name for entry in ordered], models)


def _read(path: Path) -> FlowFile:
    flow, diags = validate_file(path)
    return FlowFile(str(path), flow, diags)


def _scope(touched: set[str], records: Mapping[str, dict]) -> set[str]:
    """The files the checks across the set must see again: every file of a touched id and of the
    ids requiring one, and the files of every id these require (directly or not: each of them is
    checked again too, so its own requirements must be there)."""
    ids = set(touched)
    for rec in records.values():
        if not ids.isdisjoint(rec["requires"].values()) or rec["id"] in touched:
            ids.add(rec["id"])
    by_id: dict[str, set[str]] = {}
    for rec in records.values():
        by_id.setdefault(rec["id"], set()).update(rec["requires"].values())
    todo = list(ids)
    while todo:
        for dep in by_id.get(todo.pop(), ()):
            if dep not in ids:
                ids.add(dep)
                todo.append(dep)
    return {r for r, rec in records.items() if rec["id"] in ids}
