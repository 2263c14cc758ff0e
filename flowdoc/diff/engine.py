"""Compare two versions of a flow, part by part, into a list of :class:`Change`.

Parts are matched by what identifies them in the format: states, transitions,
failures and paths by ``id``; actors, inputs, generated values, requirements,
tokens and storage platforms by name; JWT checks by the token they check;
parameters and headers by name (headers case-insensitively). Changes come in
document order: the flow, actors, inputs, generated values, requirements,
states, transitions (with their requests, responses and failures), paths,
lifecycle, troubleshooting.

``version``, ``updated`` and ``changelog`` are not compared: they describe the
change itself (see :mod:`flowdoc.diff.check`). A step's request, response and
failures are compared in :mod:`flowdoc.diff.exchange`; changes are recorded, by
kind id, through :class:`flowdoc.diff.compare.Recorder`.
"""

from __future__ import annotations

from typing import Any

from ..model.flow import Flow, Lifecycle, Status, TokenLifecycle, Transition
from ..model.refs import inputs_used
from . import changes as C
from .compare import duration, only, pairs, same, sentence_key, ws
from .exchange import ExchangeDiffer

__all__ = ["diff_flows", "duration"]


def diff_flows(old: Flow, new: Flow) -> list[C.Change]:
    """Every semantic change from ``old`` to ``new``, in document order."""
    d = _Differ(old, new)
    d.run()
    return d.changes


class _Differ(ExchangeDiffer):
    """Compares two versions of a flow, part by part, in document order."""

    def __init__(self, old: Flow, new: Flow):
        super().__init__()
        self.old = old
        self.new = new

    # -------------------------------------------------------------- the flow
    def run(self) -> None:
        o, n = self.old, self.new
        if o.id != n.id:
            self.add("flow-id-changed", ("id",), old=o.id, new=n.id)
        self.status()
        self.texts((), "the flow", o, n, ("title", "summary"))
        if sorted(o.tags) != sorted(n.tags):
            self.add("metadata-changed", ("tags",), old=o.tags, new=n.tags, what="tags")
        ol, nl = o.links.model_dump(), n.links.model_dump()
        if ol != nl:
            self.add("metadata-changed", ("links",), old=ol, new=nl, what="links")
        self.actors()
        self.inputs()
        self.generate()
        self.requires()
        self.states()
        self.transitions()
        self.paths()
        self.lifecycle(o.lifecycle or Lifecycle(), n.lifecycle or Lifecycle())
        self.troubleshooting()

    def status(self) -> None:
        o, n = self.old, self.new
        if n.status is Status.deprecated and o.status is not Status.deprecated:
            self.add("flow-deprecated", ("status",), old=o.status, new=n.status, detail=_deprecation(n))
            return
        if o.status is Status.deprecated and n.status is not Status.deprecated:
            od = o.deprecation
            if od is not None and od.replaced_by == n.id and o.version != n.version:
                detail = f"version {n.version} is the replacement of the deprecated version {o.version}"
            else:
                detail = f"the flow is no longer deprecated (now {n.status.value})"
            self.add("flow-undeprecated", ("status",), old=o.status, new=n.status, detail=detail)
            return
        if o.status is not n.status:
            self.add("flow-status-changed", ("status",), old=o.status, new=n.status)
        self.deprecation(o.deprecation, n.deprecation)

    def deprecation(self, od, nd) -> None:
        self.sunset(od.sunset if od else None, nd.sunset if nd else None)
        if od is None and nd is None:
            return
        for fld in ("replaced_by", "migration", "reason"):
            a = getattr(od, fld) if od else None
            b = getattr(nd, fld) if nd else None
            if ws(a) != ws(b):
                self.add("replacement-changed", ("deprecation", fld), old=a, new=b, what=fld.replace("_", " "))

    def sunset(self, a, b) -> None:
        if a == b:
            return
        path = ("deprecation", "sunset")
        if b is not None and (a is None or b < a):
            detail = f"is now {b.isoformat()}" + (f" (was {a.isoformat()})" if a else " (none before)")
            self.add("sunset-brought-forward", path, old=a, new=b, detail=detail)
        else:
            detail = f"moved from {a.isoformat()} to {b.isoformat()}" if b else f"{a.isoformat()} was withdrawn"
            self.add("sunset-postponed", path, old=a, new=b, detail=detail)

    # ------------------------------------ actors, inputs, generate, requires
    def actors(self) -> None:
        for name, a, b in pairs(self.old.actors, self.new.actors):
            path, subject = ("actors", name), f"actor '{name}'"
            if b is None:
                self.add("actor-removed", path, subject, old=a.name)
            elif a is None:
                self.add("actor-added", path, subject, new=b.name)
            else:
                self.changed("actor-kind-changed", path, subject, a, b, "kind")
                self.changed("actor-base-url-changed", path, subject, a, b, "base_url")
                self.texts(path, subject, a, b, ("name", "description"))

    def inputs(self) -> None:
        used_by_client = inputs_used(self.new)
        for name, a, b in pairs(self.old.inputs, self.new.inputs):
            path, subject = ("inputs", name), f"input '{name}'"
            if b is None:
                self.add("input-removed", path, subject)
            elif a is None and b.default is not None:
                self.add("input-optional-added", path, subject, new=_default(b))
            elif a is None:
                self.add("input-required-added" if name in used_by_client else "test-input-added", path, subject)
            else:
                self.input(path, subject, a, b)

    def input(self, path: tuple, subject: str, a, b) -> None:
        if a.default is not None and b.default is None:
            self.add("input-became-required", path, subject, _default(a), None)
        elif a.default is None and b.default is not None:
            self.add("input-changed", path + ("default",), subject, None, _default(b), what="the default")
        elif not same(a.default, b.default):
            self.add("input-default-changed", path + ("default",), subject, _default(a), _default(b))
        self.options("input-changed", path, subject, a, b, {"secret": "secret", "env": "the environment variable"})
        self.texts(path, subject, a, b, ("description", "example"))

    def generate(self) -> None:
        for name, a, b in pairs(self.old.generate, self.new.generate):
            path, subject = ("generate", name), f"generated value '{name}'"
            if b is None:
                self.add("generator-removed", path, subject, old=a.kind)
            elif a is None:
                self.add("generator-added", path, subject, new=b.kind)
            else:
                self.options("generator-changed", path, subject, a, b,
                             ("kind", "method", "bytes", "digits", "period", "secret"))

    def requires(self) -> None:
        for name, a, b in pairs(self.old.requires, self.new.requires):
            path, subject = ("requires", name), f"requirement '{name}'"
            if b is None:
                self.add("requirement-removed", path, subject, old=a.flow)
            elif a is None:
                self.add("requirement-added", path, subject, new=b.flow)
            else:
                self.options("requirement-changed", path, subject, a, b, {"flow": "the flow"})
                for key in sorted(a.provides.keys() | b.provides.keys()):
                    if a.provides.get(key) != b.provides.get(key):
                        self.add("requirement-changed", path + ("provides", key), subject, a.provides.get(key),
                                 b.provides.get(key), what=f"the source of '{key}'")
                self.texts(path, subject, a, b, ("title",))

    # ---------------------------------------------------------------- states
    def states(self) -> None:
        o, n = self.old.state_map, self.new.state_map
        for sid in only(o, n):
            self.add("state-removed", ("states", sid), f"state '{sid}'", old=o[sid].label)
        oi, ni = self.old.initial_state, self.new.initial_state
        if (oi and oi.id) != (ni and ni.id):
            self.add("initial-state-changed", ("states", ni.id if ni else ""), old=oi and oi.id, new=ni and ni.id)
        for sid, b in n.items():
            path, subject = ("states", sid), f"state '{sid}'"
            a = o.get(sid)
            if a is None:
                self.add("state-added", path, subject, new=b.label)
                continue
            for fld in ("terminal", "failure"):
                if getattr(a, fld) != getattr(b, fld):
                    detail = f"is {'now' if getattr(b, fld) else 'no longer'} a {fld} state"
                    self.add("state-kind-changed", path + (fld,), subject, getattr(a, fld), getattr(b, fld),
                             detail=detail)
            self.texts(path, subject, a, b, ("title", "description", "handoff"))

    # ----------------------------------------------------------- transitions
    def transitions(self) -> None:
        old_hp = {t.id for t in self.old.happy_path()}
        new_hp = {t.id for t in self.new.happy_path()}
        for tid, a, b in pairs(self.old.transition_map, self.new.transition_map):
            path, subject = ("transitions", tid), f"transition '{tid}'"
            if b is None:
                self.add("transition-removed", path, subject, old=_route(a))
                continue
            if tid in new_hp and tid not in old_hp:
                kind = "happy-path-step-added" if b.is_http and not b.internal else "happy-path-action-added"
                self.add(kind, path, subject, new=_route(b))
            elif a is None:
                self.add("transition-added", path, subject, new=_route(b))
            if a is None:
                continue
            if tid in old_hp and tid not in new_hp:
                self.add("happy-path-step-removed", path, subject)
            self.transition(path, subject, a, b)

    def transition(self, path: tuple, subject: str, a: Transition, b: Transition) -> None:
        for key, x, y in (("from", a.from_, b.from_), ("to", a.to, b.to)):
            if x != y:
                self.add("transition-states-changed", path + (key,), subject, x, y, what=f"'{key}'")
        if (a.sender, a.receiver) != (b.sender, b.receiver):
            self.add("transition-actors-changed", path + ("by",), subject, C.Shown(f"{a.sender} -> {a.receiver}"),
                     C.Shown(f"{b.sender} -> {b.receiver}"))
        self.guard(path + ("guard",), subject, a.guard, b.guard)
        self.options("transition-options-changed", path, subject, a, b, ("wait", "parallel", "internal"))
        self.texts(path, subject, a, b, ("title", "description", "trigger", "action"))
        self.exchange(path, subject, a, b)
        self.failures(path, a, b)

    def guard(self, path: tuple, subject: str, a, b) -> None:
        ga = (ws(a.text), a.expr) if a else None
        gb = (ws(b.text), b.expr) if b else None
        if ga == gb:
            return
        if ga is None:
            self.add("guard-added", path, subject, None, _guard(b))
        elif gb is None:
            self.add("guard-removed", path, subject, _guard(a), None)
        else:
            self.add("guard-changed", path, subject, _guard(a), _guard(b))

    # ----------------------------------------------------------------- paths
    def paths(self) -> None:
        o = {p.id: p for p in self.old.paths}
        n = {p.id: p for p in self.new.paths}
        for pid, a, b in pairs(o, n):
            path, subject = ("paths", pid), f"path '{pid}'"
            if b is None:
                self.add("path-removed", path, subject, old=a.steps)
            elif a is None:
                self.add("path-added", path, subject, new=b.steps)
            else:
                if a.steps != b.steps:
                    self.add("path-changed", path + ("steps",), subject, C.Shown(" → ".join(a.steps)),
                             C.Shown(" → ".join(b.steps)))
                self.texts(path, subject, a, b, ("title",))

    # ------------------------------------------------------------- lifecycle
    def lifecycle(self, a: Lifecycle, b: Lifecycle) -> None:
        for name, ta, tb in pairs(a.tokens, b.tokens):
            path, subject = ("lifecycle", "tokens", name), f"token '{name}'"
            if tb is None:
                self.add("token-removed", path, subject)
            elif ta is None:
                self.add("token-added", path, subject, new=tb.ttl)
            else:
                self.token(path, subject, ta, tb)
        for platform, va, vb in pairs(a.storage, b.storage):
            path = ("lifecycle", "storage", platform)
            if vb is None:
                self.add("storage-changed", path, old=va, name=platform, detail="was removed")
            elif va is None:
                self.add("storage-added", path, new=vb, name=platform)
            elif ws(va) != ws(vb):
                self.add("storage-changed", path, old=va, new=vb, name=platform, detail=f"is now: {vb}")
        # lists of sentences: compared by their words; a new item's path is its position in the new list
        gone, new = _sentences(a.reauthenticate, b.reauthenticate)
        for x in gone:
            self.add("reauth-condition-removed", ("lifecycle", "reauthenticate"), old=x)
        for i, x in new:
            self.add("reauth-condition-added", ("lifecycle", "reauthenticate", i), new=x)
        gone, new = _sentences(a.caching, b.caching)
        for x in gone:
            self.add("caching-changed", ("lifecycle", "caching"), old=x, verb="removed", value=x)
        for i, x in new:
            self.add("caching-changed", ("lifecycle", "caching", i), new=x, verb="added", value=x)
        self.text(("lifecycle", "notes"), "the lifecycle", "notes", a.notes, b.notes)

    def token(self, path: tuple, subject: str, a: TokenLifecycle, b: TokenLifecycle) -> None:
        for fld, what in (("ttl", "lifetime (ttl)"), ("idle_ttl", "idle lifetime (idle_ttl)")):
            self.ttl(path + (fld,), subject, what, getattr(a, fld), getattr(b, fld))
        if a.format != b.format:
            kind = "token-format-changed" if a.format and b.format else "lifecycle-changed"
            self.add(kind, path + ("format",), subject, a.format, b.format, what="format")
        for fld, what in (("rotates", "rotation"), ("single_use", "single use")):
            x, y = getattr(a, fld), getattr(b, fld)
            if x is not True and y is True:
                self.add("rotation-enabled", path + (fld,), subject, x, y, what=what)
            elif x is True and y is not True:
                self.add("rotation-changed", path + (fld,), subject, x, y, what=what)
        if ws(a.rotation) != ws(b.rotation):
            self.add("rotation-changed", path + ("rotation",), subject, a.rotation, b.rotation,
                     what="the rotation rule")
        for fld, what in (("refresh_ahead", "refresh-ahead"), ("revocation", "revocation")):
            x, y = getattr(a, fld), getattr(b, fld)
            if (ws(x) if isinstance(x, str) else x) != (ws(y) if isinstance(y, str) else y):
                if fld == "refresh_ahead":
                    x, y = (C.Shown(duration(v)) if v is not None else None for v in (x, y))
                self.add("lifecycle-changed", path + (fld,), subject, x, y, what=what)
        self.text(path + ("description",), subject, "description", a.description, b.description)

    def ttl(self, path: tuple, subject: str, what: str, x: int | None, y: int | None) -> None:
        if x == y:
            return
        ctx = {"what": what, "old_d": duration(x), "new_d": duration(y)}
        if x is not None and y is not None:
            self.add("ttl-shortened" if y < x else "ttl-lengthened", path, subject, x, y, **ctx)
        else:
            detail = f"is now documented: {duration(y)}" if x is None else f"({duration(x)}) is no longer documented"
            self.add("ttl-changed", path, subject, x, y, detail=detail, **ctx)

    # ------------------------------------------------------- troubleshooting
    def troubleshooting(self) -> None:
        o = {sentence_key(t.error): t for t in self.old.troubleshooting}
        n = {sentence_key(t.error): t for t in self.new.troubleshooting}
        for _k, a, b in pairs(o, n):
            if b is None:
                self.add("troubleshooting-changed", ("troubleshooting",), old=a.error, name=f"'{a.error}'",
                         verb="was removed")
            elif a is None:
                self.add("troubleshooting-changed", ("troubleshooting", b.error), new=b.error, name=f"'{b.error}'",
                         verb="was added")
            elif (a.status, ws(a.cause), ws(a.remedy)) != (b.status, ws(b.cause), ws(b.remedy)):
                self.add("troubleshooting-changed", ("troubleshooting", b.error), old=a.error, new=b.error,
                         name=f"'{b.error}'", verb="changed")


# ------------------------------------------------------------------ helpers


def _default(inp) -> Any:
    """An input's default as a change may show it: never the value of a secret input."""
    return C.Shown("(secret)") if inp.secret and inp.default is not None else inp.default


def _sentences(a: list[str], b: list[str]) -> tuple[list[str], list[tuple[int, str]]]:
    """Lists of sentences compared by their words: the sentences of ``a`` that ``b`` lacks, and the
    sentences of ``b`` that ``a`` lacks with their positions in ``b``."""
    ka, kb = {sentence_key(x) for x in a}, {sentence_key(x) for x in b}
    return [x for x in a if sentence_key(x) not in kb], [(i, x) for i, x in enumerate(b) if sentence_key(x) not in ka]


def _route(t: Transition) -> C.Shown:
    what = f"{t.request.method} {t.request.path}" if t.request else (t.action or t.title)
    return C.Shown(f"{t.from_} → {t.to}, {t.sender} -> {t.receiver}: {what}")


def _deprecation(flow: Flow) -> str:
    """What a newly deprecated flow's notice says: replacement, sunset, migration."""
    nd = flow.deprecation
    if nd is None:
        return ""
    detail = f"; replaced by '{nd.replaced_by}'"
    if nd.sunset:
        detail += f", sunset {nd.sunset.isoformat()}"
    return detail + f"; migration: {nd.migration}"


def _guard(t_guard) -> str:
    return t_guard.text + (f" [{t_guard.expr}]" if t_guard.expr else "")
