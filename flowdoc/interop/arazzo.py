"""Export a flow as an Arazzo 1.0.1 description (plus minimal OpenAPI descriptions).

Each scenario ``flowdoc verify`` runs becomes a workflow: the happy path, every further declared
path, and every failure branch (the route to its step, the provoked request checked against the
documented failure, then the step that shows the state the branch leads to). Steps carry
``successCriteria`` (status, error code, fields, exact values), inputs become workflow inputs
(secrets marked ``format: password`` and ``x-secret``), captures become step outputs.

What Arazzo cannot express is never dropped silently: such a step is left out of its workflow
(with the steps that need its values), a failure branch whose provoking step cannot run leaves
its workflow out, and each of these, with the checks that could not be written, is listed in
``x-flowdoc-unexpressed`` and returned as :class:`Unexpressed` entries.

    from flowdoc.interop import export_arazzo
    result = export_arazzo(flow, filename="client-credentials.arazzo.yaml")
    result.files()      # {"client-credentials.arazzo.yaml": "...", "client-credentials.auth.openapi.yaml": ...}
    result.unexpressed  # what could not be expressed, per step
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .._version import __version__
from ..model.flow import Flow, Transition
from ..verify._plan import HAPPY, Scenario, _route_to
from ._expr import LeftOut, Scope
from ._openapi import OpenApiSet
from ._steps import StepBuilder, StepPlan

ARAZZO_VERSION = "1.0.1"


@dataclass
class Unexpressed:
    """Something of the flow an Arazzo description does not carry, and what that costs."""

    kind: str  # stable short name: redirect, html-form, generated, wait, parallel, depends, jwt ...
    reason: str
    effect: str  # step left out | workflow left out | check not expressed | output left out | note
    step: str | None = None  # transition id
    failure: str | None = None
    workflows: list[str] = field(default_factory=list)
    pos: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.step:
            out["step"] = self.step
        if self.failure:
            out["failure"] = self.failure
        out.update({"kind": self.kind, "effect": self.effect, "reason": self.reason})
        if self.workflows:
            out["workflows"] = list(self.workflows)
        return out

    def line(self) -> str:
        wfs = ", ".join(self.workflows)
        if self.effect == "workflow left out":
            which = f" (failure '{self.failure}' of step '{self.step}')" if self.failure else ""
            return f"workflow '{wfs}'{which} left out: {self.reason}"
        if self.effect == "step left out":
            return f"step '{self.step}' left out of workflow{'s' if len(self.workflows) > 1 else ''} {wfs}: " \
                   f"{self.reason}"
        if self.step:
            return f"step '{self.step}' ({wfs}): {self.effect}: {self.reason}"
        return f"{self.effect}: {self.reason}"


class ArazzoExportError(Exception):
    """No workflow of the flow can be expressed in Arazzo; ``unexpressed`` says why, per step."""

    def __init__(self, message: str, unexpressed: list[Unexpressed]):
        super().__init__(message)
        self.unexpressed = unexpressed


@dataclass
class ArazzoExport:
    flow: Flow
    filename: str  # of the Arazzo description; the OpenAPI descriptions are named after it
    document: dict
    openapi: dict[str, dict]
    unexpressed: list[Unexpressed]

    def openapi_filename(self, source: str) -> str:
        return openapi_filename(self.filename, source)

    def files(self) -> dict[str, str]:
        """File name (relative to the Arazzo file's folder) → YAML text; the Arazzo file first."""
        out = {self.filename: dump_yaml(self.document)}
        for source, doc in self.openapi.items():
            out[self.openapi_filename(source)] = dump_yaml(doc)
        return out

    def servers(self) -> dict[str, str]:
        """Source description name → the flow's base URL expression (what to pass to ``--server``)."""
        return {s["name"]: s.get("x-flowdoc-base-url", "") for s in self.document["sourceDescriptions"]}


def openapi_filename(filename: str, source: str) -> str:
    """``x.arazzo.yaml`` and ``auth`` → ``x.auth.openapi.yaml`` (beside it)."""
    stem = filename
    for suffix in (".arazzo.yaml", ".arazzo.yml", ".arazzo.json", ".yaml", ".yml", ".json"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return f"{stem or 'flow'}.{source}.openapi.yaml"


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)


# ------------------------------------------------------------------ scenarios

def scenarios(flow: Flow) -> list[Scenario]:
    """The scenarios ``flowdoc verify`` plans for a flow, without running its required flows."""
    key = flow.id
    first = flow.paths[0] if flow.paths else None
    out = [Scenario(f"{key}/{first.id if first else HAPPY}", first.id if first else HAPPY, "happy",
                    (first.title if first and first.title else "Happy path"), flow, key, flow.happy_path())]
    tm = flow.transition_map
    for p in flow.paths[1:]:
        out.append(Scenario(f"{key}/{p.id}", p.id, "path", p.title or p.id, flow, key,
                            [tm[s] for s in p.steps if s in tm]))
    for t in flow.transitions:
        for f in t.failures:
            route = _route_to(flow, t)
            scn = Scenario(f"{key}/{f.id}", f.id, "failure", f.title or f.when, flow, key, route or [], t, f)
            if route is None:
                scn.kind = "unreachable"
            out.append(scn)
    return out


def _plans(scn: Scenario) -> list[StepPlan]:
    """The steps of a scenario's workflow, in order (step ids unique in the workflow)."""
    used: set[str] = set()

    def sid(base: str, alt: str) -> str:
        name = base if base not in used else alt
        n = 2
        while name in used:
            name, n = f"{alt}-{n}", n + 1
        used.add(name)
        return name

    plans = [StepPlan(t, "happy", sid(t.id, t.id)) for t in scn.route]
    f, t = scn.failure, scn.target
    if f is None or t is None:
        return plans
    tm = scn.flow.transition_map
    plans += [StepPlan(tm[b], "happy", sid(b, f"{b}-before")) for b in f.provoke.before if b in tm]
    if f.provoke.replay:
        plans.append(StepPlan(t, "happy", sid(t.id, f"{t.id}-first")))
        plans.append(StepPlan(t, "provoke", sid(f"{t.id}-replay", f"{t.id}-replay"), f))
    else:
        for i in range(1, f.provoke.attempts):
            plans.append(StepPlan(t, "attempt", sid(f"{t.id}-attempt-{i}", f"{t.id}-attempt-{i}"), f))
        plans.append(StepPlan(t, "provoke", sid(t.id, f"{t.id}-{f.id}"), f))
    nxt = scn.follow_up
    if nxt is not None:
        plans.append(StepPlan(nxt, "happy", sid(nxt.id, f"{nxt.id}-then")))
    return plans


# ------------------------------------------------------------------ export

class _Exporter:
    def __init__(self, flow: Flow, filename: str):
        self.flow = flow
        self.filename = filename
        self.openapi = OpenApiSet(flow)
        self.notes: dict[tuple, Unexpressed] = {}

    def note(self, u: Unexpressed, workflow: str) -> None:
        key = (u.step, u.failure, u.kind, u.effect, u.reason)
        have = self.notes.get(key)
        if have is None:
            self.notes[key] = have = u
            have.workflows = []
        if workflow not in have.workflows:
            have.workflows.append(workflow)

    def _pos(self, t: Transition | None, failure_id: str | None = None) -> tuple[int, int] | None:
        if t is None:
            return None
        i = self.flow.transitions.index(t)
        if failure_id is not None:
            j = next((k for k, f in enumerate(t.failures) if f.id == failure_id), None)
            if j is not None:
                return self.flow.pos("transitions", i, "failures", j)
        return self.flow.pos("transitions", i)

    # a workflow, or None (its notes say why)
    def workflow(self, scn: Scenario, wid: str) -> dict | None:
        if scn.kind == "unreachable":
            self.note(Unexpressed("unreachable", "no route from the initial state reaches this step",
                                  "workflow left out", scn.target.id if scn.target else None,
                                  scn.failure.id if scn.failure else None, pos=self._pos(scn.target)), wid)
            return None
        scope = Scope(self.flow, input_schema=self.input_schema)
        builder = StepBuilder(scope, self.openapi)
        steps: list[dict] = []
        pending: list[Unexpressed] = []
        for plan in _plans(scn):
            try:
                steps.append(self._step(builder, scope, plan, pending))
            except LeftOut as exc:
                if plan.mode == "provoke":
                    for r in exc.reasons:
                        fid = plan.failure.id if plan.failure else None
                        self.note(Unexpressed(r.kind, r.reason, "workflow left out", plan.transition.id,
                                              fid, pos=self._pos(plan.transition, fid)), wid)
                    return None
        for u in pending:
            self.note(u, wid)
        if not steps:
            self.note(Unexpressed("empty", "none of its steps can run in Arazzo", "workflow left out",
                                  scn.target.id if scn.target else None,
                                  scn.failure.id if scn.failure else None, pos=self._pos(scn.target)), wid)
            return None
        for step in steps:
            outs = scope.outputs.get(step["stepId"])
            if outs:
                step["outputs"] = outs
        return self._workflow_dict(scn, wid, steps, scope)

    def _step(self, builder: StepBuilder, scope: Scope, plan: StepPlan, pending: list[Unexpressed]) -> dict:
        """One step; a step left out (not the provoking one) is noted and re-raised."""
        t = plan.transition
        try:
            step = builder.build(plan)
        except LeftOut as exc:
            if plan.mode != "provoke":
                scope.left_out[plan.step_id] = t.id
                pending += [Unexpressed(r.kind, r.reason, "step left out", t.id, pos=self._pos(t))
                            for r in exc.reasons]
            raise
        if plan.mode == "happy":
            scope.steps[t.id] = plan.step_id
        for n in plan.notes:
            pending.append(Unexpressed(n.kind, n.reason, n.effect, t.id,
                                       plan.failure.id if plan.mode != "happy" and plan.failure else None,
                                       pos=self._pos(t)))
        return step

    def _workflow_dict(self, scn: Scenario, wid: str, steps: list[dict], scope: Scope) -> dict:
        wf: dict[str, Any] = {"workflowId": wid, "summary": scn.title}
        f = scn.failure
        if f is not None and scn.target is not None:
            to = f.to or scn.target.from_
            wf["description"] = (f"Failure branch '{f.id}' of step '{scn.target.id}': when {f.when}. "
                                 f"Expected answer: HTTP {'/'.join(map(str, f.response.statuses))}"
                                 + (f" {f.response.error}" if f.response.error else "")
                                 + f"; the flow is then in state '{to}'. Remedy: {f.remedy}")
            wf["x-flowdoc-failure"] = {"step": scn.target.id, "failure": f.id, "to": to}
        else:
            wf["description"] = f"The {'happy path' if scn.kind == 'happy' else 'path ' + scn.name} of flow " \
                                f"'{self.flow.id}'."
        if scope.inputs:
            schema: dict[str, Any] = {"type": "object", "properties": dict(sorted(scope.inputs.items()))}
            required = sorted(n for n, s in scope.inputs.items() if "default" not in s)
            if required:
                schema["required"] = required
            wf["inputs"] = schema
        wf["steps"] = steps
        return wf

    def input_schema(self, name: str) -> dict:
        inp = self.flow.inputs.get(name)
        if inp is None:  # a value a required flow provides
            req, _, provided = name.partition("_")
            for rname, r in self.flow.requires.items():
                if name.startswith(rname + "_"):
                    req, provided = rname, name[len(rname) + 1:]
                    other = r.flow
                    break
            else:
                other = req
            return {"type": "string", "format": "password",
                    "description": f"'{provided}' from a run of flow '{other}' ({req}); flowdoc verify runs "
                                   "that flow first, Arazzo takes the value as an input"}
        out: dict[str, Any] = {}
        if not isinstance(inp.default, (bool, int, float)) or inp.default is None:
            out["type"] = "string"
        if inp.description:
            out["description"] = inp.description
        if inp.secret:
            out["format"] = "password"
        else:
            if inp.default is not None:
                out["default"] = inp.default
            if inp.example is not None:
                out["examples"] = [inp.example]
        return out

    # ------------------------------------------------------------------ document
    def run(self) -> ArazzoExport:
        workflows: list[dict] = []
        seen: set[str] = set()
        for scn in scenarios(self.flow):
            wid = scn.name if scn.name not in seen else f"{scn.target.id if scn.target else 'path'}-{scn.name}"
            seen.add(wid)
            wf = self.workflow(scn, wid)
            if wf is not None:
                workflows.append(wf)
        self._flow_notes()
        unexpressed = list(self.notes.values())
        if not workflows:
            raise ArazzoExportError(f"no step of flow '{self.flow.id}' can run as an Arazzo workflow", unexpressed)
        docs = self.openapi.finish()
        sources = []
        for name in docs:
            sd: dict[str, Any] = {"name": name, "url": "./" + openapi_filename(self.filename, name),
                                  "type": "openapi"}
            base = self.openapi.base_url_expression(name)
            if base:
                sd["x-flowdoc-base-url"] = base
            sources.append(sd)
        doc: dict[str, Any] = {"arazzo": ARAZZO_VERSION, "info": self._info(docs)}
        doc["x-flowdoc"] = {"flow": self.flow.id, "version": self.flow.version or "",
                            "file": Path(self.flow.file).name if self.flow.file else "",
                            "generator": f"flowdoc {__version__}"}
        doc["x-flowdoc-unexpressed"] = [u.to_dict() for u in unexpressed]
        doc["sourceDescriptions"] = sources
        doc["workflows"] = workflows
        return ArazzoExport(self.flow, self.filename, doc, docs, unexpressed)

    def _info(self, docs: dict[str, dict]) -> dict:
        info: dict[str, Any] = {"title": self.flow.title}
        if self.flow.summary:
            info["summary"] = " ".join(self.flow.summary.split())
        servers = " ".join(f"--server {n}=URL" for n in docs)
        info["description"] = (
            f"Exported by flowdoc from flow '{self.flow.id}'. Each failure branch is a workflow of its own. "
            f"Run it with Redocly Respect: `redocly respect {self.filename} {servers} --input NAME=VALUE`, "
            "naming each source description's server (its `x-flowdoc-base-url` says which input it is). "
            "What Arazzo cannot express is listed in `x-flowdoc-unexpressed`."
        )
        info["version"] = self.flow.version or "0.0.0"
        return info

    def _flow_notes(self) -> None:
        for name, req in self.flow.requires.items():
            provided = ", ".join(f"{name}_{k}" for k in req.provides) or "none"
            self.note(Unexpressed("requires", f"flow '{req.flow}' ({name}) runs first in flowdoc verify; here its "
                                  f"values are inputs ({provided}), fresh for each workflow that spends them",
                                  "note", pos=self.flow.pos("requires", name)), "*")
        for name, g in self.flow.generate.items():
            self.note(Unexpressed("generated", f"generated value '{name}' ({g.kind.value}): Arazzo cannot "
                                  "generate values; the steps that use it are left out", "note",
                                  pos=self.flow.pos("generate", name)), "*")
        for u in self.notes.values():
            if u.workflows == ["*"]:
                u.workflows = []


def default_filename(flow: Flow) -> str:
    return f"{flow.id}.arazzo.yaml"


def export_arazzo(flow: Flow, *, filename: str | None = None) -> ArazzoExport:
    """Export ``flow`` (a valid :class:`~flowdoc.model.Flow`) as the Arazzo file ``filename`` (a
    base name; default ``FLOW_ID.arazzo.yaml``) and its OpenAPI descriptions, named after it.
    Raises :class:`ArazzoExportError` when no workflow can be expressed."""
    return _Exporter(flow, filename or default_filename(flow)).run()
