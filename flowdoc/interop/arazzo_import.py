"""Import an Arazzo 1.0.x description as a flow skeleton that ``flowdoc validate`` accepts.

Arazzo describes calls and their success criteria; a flow also needs what Arazzo does not say:
states, who the actors are, failure remedies, token lifecycle. The skeleton fills those with
placeholders marked ``TODO(arazzo)`` (as YAML comments and in the texts), so ``flowdoc lint``
and a reader see what is left to write.

How workflows map: the happy path is the workflow named ``happy-path`` (else the first); its
steps become a chain of transitions. In each other workflow, the first step that calls an
operation of the happy path with other success criteria becomes a failure branch of that
transition (the differences in its request become ``provoke``); a workflow that calls other
operations becomes a chain of its own from the initial state.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..check import validate_text
from ..diagnostics import Diagnostic
from ..model.version import Version
from ._arazzo_read import ArazzoDoc, Operation, read_arazzo
from ._import_steps import TODO, ImportCtx, request, response, slug
from ._yamlemit import Commented, Quoted, emit
from .provoke import provoke_of



class ArazzoImportError(Exception):
    """The generated skeleton does not validate (a bug); carries the diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("the imported flow does not validate: " + "; ".join(d.message for d in diagnostics[:3]))


@dataclass
class ImportResult:
    text: str
    flow_id: str
    transitions: int
    failures: int
    todos: list[str] = field(default_factory=list)  # what could not be imported, in words

    @property
    def todo_count(self) -> int:
        """Lines of the flow (not its header) that still say TODO(arazzo)."""
        return sum(1 for line in self.text.splitlines() if TODO in line and not line.startswith("#"))


@dataclass
class _Chain:
    """Transitions being built, in order, with the states between them."""

    transitions: list[dict] = field(default_factory=list)
    states: list[dict] = field(default_factory=list)
    by_id: dict[str, dict] = field(default_factory=dict)
    ops: dict[str, tuple] = field(default_factory=dict)  # transition id → (source, method, path)
    happy_steps: dict[str, dict] = field(default_factory=dict)  # transition id → its Arazzo step


class _Importer:
    def __init__(self, doc: ArazzoDoc, today: _dt.date):
        self.doc = doc
        self.today = today
        self.ctx = ImportCtx()
        self.chain = _Chain()
        self.actors: dict[str, dict] = {"client": {"name": "Client", "kind": "client"}}
        self.failures = 0
        self.notes: list[str] = []
        self.ids: set[str] = set()

    # ---------------------------------------------------------------- ids
    def unique(self, base: str) -> str:
        name, n = base, 2
        while name in self.ids:
            name, n = f"{base}_{n}"[:80], n + 1
        self.ids.add(name)
        return name

    # ---------------------------------------------------------------- actors
    def actor(self, op: Operation) -> str:
        name = slug(op.source or "api", "api")
        if name == "client":
            name = "client_api"
        if name not in self.actors:
            paths = " ".join(p for p in (op.path or "",))
            kind = "authorization-server" if re.search(r"token|auth", f"{name} {paths}", re.I) else "resource-server"
            self.actors[name] = {"name": name.replace("_", " ").replace("-", " ").title(), "kind": kind,
                                 "base_url": self._base_url(op.source, name, op.servers)}
        return name

    def _base_url(self, source: str | None, name: str, servers: list[str]) -> str:
        sd = next((s for s in self.doc.sources() if s.get("name") == source), {})
        hinted = sd.get("x-flowdoc-base-url")
        if isinstance(hinted, str) and re.fullmatch(r"\$\{inputs\.[A-Za-z_][A-Za-z0-9_-]*\}", hinted):
            inp = hinted[9:-1]
        else:
            inp = f"{name}_url"
        if inp not in self.ctx.inputs:
            decl: dict[str, Any] = {"description": f"Base URL of {source or name}"}
            if servers and not servers[0].endswith(".invalid"):
                decl["example"] = servers[0]
            self.ctx.inputs[inp] = decl
        self.ctx.used_inputs.add(inp)
        return "${inputs." + inp + "}"

    # ---------------------------------------------------------------- steps
    def transition(self, step: dict, wid: str, src: str, dst: str) -> dict | None:
        op = self.doc.operation(step)
        sid = step["stepId"]
        where = f"workflow '{wid}' step '{sid}'"
        if op.problem and op.method is None and "workflow" in op.problem:
            self.notes.append(f"{where} calls workflow '{step.get('workflowId')}': not imported")
            return None
        tid = self.unique(slug(sid))
        receiver = self.actor(op)
        method, path = op.method or "get", op.path or f"/{TODO}-{tid}"
        if op.method is None:
            self.ctx.todo(where, f"method and path unknown ({op.problem}); GET {path} is a placeholder")
        t: dict[str, Any] = {"id": tid, "from": src, "to": dst, "by": f"client -> {receiver}",
                             "title": _title(step, tid)}
        t["request"] = request(step, method, path, self.ctx, where)
        t["response"] = response(step, self.ctx, where)
        self.ctx.captures[tid] = set((t["response"].get("capture") or {}).keys())
        self.chain.ops[tid] = (op.source, method, path)
        self.chain.happy_steps[tid] = step
        return t

    def chain_of(self, wf: dict, start: str, *, first: bool) -> None:
        """A workflow's steps as a chain of transitions from ``start`` to a terminal state."""
        wid = str(wf["workflowId"])
        steps = [s for s in wf["steps"] if isinstance(s, dict)]
        cur = start
        for i, step in enumerate(steps):
            last = i == len(steps) - 1
            nxt = self.unique(slug(f"{'done' if first else slug(wid) + '_done'}" if last
                                   else f"after_{step['stepId']}"))
            t = self.transition(step, wid, cur, nxt)
            if t is None:
                continue
            state: dict[str, Any] = {"id": nxt, "title": f"{TODO}: name the state after '{t['id']}'"}
            if last:
                state.update({"terminal": True, "handoff": f"{TODO}: where the reader goes next"})
            self.chain.states.append(state)
            self.chain.transitions.append(t)
            self.chain.by_id[t["id"]] = t
            cur = nxt
        if cur == start:
            self.notes.append(f"workflow '{wid}': no step imported")
        elif not self.chain.states[-1].get("terminal"):
            self.chain.states[-1].update({"terminal": True, "handoff": f"{TODO}: where the reader goes next"})

    # ---------------------------------------------------------------- failures
    def failure_of(self, wf: dict) -> bool:
        """Import ``wf`` as a failure branch of a happy transition; False if it is none."""
        wid = str(wf["workflowId"])
        prev: dict | None = None
        for step in (s for s in wf["steps"] if isinstance(s, dict)):
            tid = self._match(step)
            if tid is None:
                return False
            happy = self.chain.happy_steps[tid]
            if _criteria(step) != _criteria(happy):
                self._add_failure(wf, step, tid, replay=prev is not None and self._match(prev) == tid)
                return True
            prev = step
        self.notes.append(f"workflow '{wid}' repeats steps of the happy path with the same criteria: not imported")
        return True

    def _match(self, step: dict) -> str | None:
        sid = slug(step["stepId"])
        if sid in self.chain.happy_steps:
            return sid
        op = self.doc.operation(step)
        key = (op.source, op.method, op.path)
        return next((t for t, k in self.chain.ops.items() if k == key and op.method is not None), None)

    def _add_failure(self, wf: dict, step: dict, tid: str, *, replay: bool) -> None:
        wid = str(wf["workflowId"])
        where = f"workflow '{wid}'"
        t = self.chain.by_id[tid]
        resp = response(step, self.ctx, where, failure=True)
        resp.pop("capture", None)
        resp = {k: v for k, v in resp.items() if k in ("status", "error", "fields", "headers")}
        f: dict[str, Any] = {"id": self.unique(slug(wid, "failure")),
                             "title": str(wf.get("summary") or wid)[:200]}
        f["when"] = _when(wf) or self.ctx.todo(where, "say when this failure happens")
        prov = provoke_of(self.chain.happy_steps[tid], step, self.ctx, where, replay=replay)
        if prov:
            f["provoke"] = prov
        f["response"] = resp
        f["to"] = "failed"
        f["remedy"] = Commented(f"{TODO}: what the client or user should do", ["TODO(arazzo): Arazzo has no remedy"])
        t.setdefault("failures", []).append(f)
        self.failures += 1

    # ---------------------------------------------------------------- the flow
    def run(self) -> ImportResult:
        wfs = [w for w in self.doc.data["workflows"] if isinstance(w, dict)]
        happy = next((w for w in wfs if w.get("workflowId") == "happy-path"), wfs[0])
        for wf in wfs:
            for name, schema in ((wf.get("inputs") or {}).get("properties") or {}).items():
                self.ctx.inputs.setdefault(slug(str(name), "input"), _input(schema))
        self.ids.update({"start", "failed"})
        self.chain_of(happy, "start", first=True)
        for wf in wfs:
            if wf is not happy and not self.failure_of(wf):
                self.chain_of(wf, "start", first=False)
        return self._result()

    def _result(self) -> ImportResult:
        info = self.doc.data.get("info") or {}
        fid = slug(Path(self.doc.file).name.split(".")[0] or str(info.get("title", "flow")), "flow")
        flow = self._flow(fid, info)
        text = _header(self.doc.file, self.ctx.todos, self.notes) + emit(flow)
        _validate(text, fid)
        return ImportResult(text, fid, len(self.chain.transitions), self.failures, self.ctx.todos + self.notes)

    def _flow(self, fid: str, info: dict) -> dict:
        version = str(info.get("version") or "")
        if Version.of(version) is None or len(version) > 100:
            self.ctx.todos.append(f"info.version '{version}' is not semantic; 0.1.0 is a placeholder")
            version = "0.1.0"
        for name in sorted(self.ctx.used_inputs - set(self.ctx.inputs)):
            self.ctx.inputs[name] = {"description": f"{TODO}: describe this input"}
        flow: dict[str, Any] = {"id": fid, "title": str(info.get("title") or fid)}
        summary = info.get("summary") or info.get("description")
        if summary:
            flow["summary"] = str(summary)
        flow.update({"version": Quoted(version), "updated": self.today, "status": "draft",
                     "changelog": [{"version": Quoted(version), "date": self.today,
                                    "notes": f"Imported from the Arazzo description {Path(self.doc.file).name}."}]})
        flow["actors"] = Commented(self.actors, [f"{TODO}: Arazzo names the APIs, not who calls them: check each "
                                                 "actor's name and kind (person, browser, client, gateway ...)"])
        if self.ctx.inputs:
            flow["inputs"] = self.ctx.inputs
        states = [{"id": "start", "title": f"{TODO}: name the initial state", "initial": True},
                  *self.chain.states]
        if self.failures:
            states.append({"id": "failed", "title": f"{TODO}: name the failure state", "failure": True,
                           "terminal": True})
        flow["states"] = Commented(states, [f"{TODO}: Arazzo has no states; these are one per step. Name them, "
                                            "and point each failure at the state it leads to"])
        flow["transitions"] = self.chain.transitions
        return flow


def _criteria(step: dict) -> list:
    return [repr(sorted(c.items())) if isinstance(c, dict) else repr(c) for c in step.get("successCriteria") or []]


def _title(step: dict, tid: str) -> str:
    text = " ".join(str(step.get("description") or "").split())
    text = text.split(": failure '")[0]
    if not text:
        return f"{TODO}: say what step '{tid}' does"
    return text if len(text) <= 120 else text[:117].rstrip() + "..."


_FLOWDOC_WHEN = re.compile(r"^Failure branch '[^']*' of step '[^']*': when (.+?)\. Expected answer: ")


def _when(wf: dict) -> str | None:
    text = " ".join(str(wf.get("description") or wf.get("summary") or "").split())
    m = _FLOWDOC_WHEN.match(text)  # a description flowdoc's export wrote
    if m:
        text = m.group(1)
    return text[:300] if text else None


def _input(schema: Any) -> dict:
    out: dict[str, Any] = {}
    if not isinstance(schema, dict):
        return out
    if isinstance(schema.get("description"), str):
        out["description"] = schema["description"]
    secret = schema.get("format") == "password" or schema.get("writeOnly") is True or schema.get("x-secret") is True
    if secret:
        out["secret"] = True
    elif isinstance(schema.get("default"), (str, int, float, bool)):
        out["default"] = schema["default"]
    examples = schema.get("examples")
    if not secret and isinstance(examples, list) and examples and isinstance(examples[0], (str, int, float)):
        out["example"] = str(examples[0])
    return out


def _header(file: str, todos: list[str], notes: list[str]) -> str:
    lines = [f"# Imported from the Arazzo description {Path(file).name} by flowdoc.",
             "# Arazzo does not say what a flow documents besides its calls. Before publishing, resolve",
             f"# every {TODO} below: the states, who the actors are, each failure's remedy, and the",
             "# token lifecycle (lifetimes, rotation, storage per platform), then run flowdoc lint.",
             f"# {TODO}: lifecycle: add 'lifecycle:' (tokens, storage, reauthenticate); Arazzo has none."]
    for t in [*todos, *notes]:
        lines.append(f"# {TODO}: {t}" if not t.startswith(TODO) else f"# {t}")
    return "\n".join(lines) + "\n"


def _validate(text: str, fid: str) -> None:
    _flow, diags = validate_text(text, f"{fid}.yaml")
    if diags.errors:
        raise ArazzoImportError(diags.errors)


def import_arazzo(path: str | Path, *, today: _dt.date | None = None) -> ImportResult:
    """Read an Arazzo file and return a flow skeleton (YAML text) that validates.

    Raises :class:`~flowdoc.interop.ArazzoReadError` (with FILE:LINE:COL diagnostics) when the
    file is not an Arazzo 1.0.x description."""
    return _Importer(read_arazzo(path), today or _dt.date.today()).run()
