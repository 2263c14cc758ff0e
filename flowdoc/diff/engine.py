"""Compare two versions of a flow, part by part, into a list of :class:`Change`.

Parts are matched by what identifies them in the format: states, transitions,
failures and paths by ``id``; actors, inputs, generated values, requirements,
tokens and storage platforms by name; JWT checks by the token they check;
parameters and headers by name (headers case-insensitively). Changes come in
document order: the flow, actors, inputs, generated values, requirements,
states, transitions (with their requests, responses and failures), paths,
lifecycle, troubleshooting.

``version``, ``updated`` and ``changelog`` are not compared: they describe the
change itself (see :mod:`flowdoc.diff.check`).
"""

from __future__ import annotations

from typing import Any, Iterable

from ..model.flow import (
    FailureResponse,
    Flow,
    JwtCheck,
    Lifecycle,
    Redirect,
    Request,
    Response,
    Status,
    TokenLifecycle,
    Transition,
)
from ..model.refs import inputs_used
from . import changes as C

_PARAM_KINDS = {
    "params": "path parameter",
    "query": "query parameter",
    "form": "form parameter",
    "json": "JSON field",
    "headers": "header",
}


def diff_flows(old: Flow, new: Flow) -> list[C.Change]:
    """Every semantic change from ``old`` to ``new``, in document order."""
    d = _Differ(old, new)
    d.run()
    return d.changes


def _norm(v: Any) -> Any:
    """Parameter values as they go over the wire: 1, 1.0 and "1" are the same; so are true and "true"."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (int, float)):
        return str(v)
    return v


def _same(a: Any, b: Any) -> bool:
    return _norm(a) == _norm(b)


def _ws(text: str | None) -> str | None:
    return " ".join(text.split()) if isinstance(text, str) else text


def duration(seconds: int | None) -> str:
    """Seconds as the format writes them: 90s, 15m, 1h, 1h30m, 14d."""
    if seconds is None:
        return "none"
    if seconds == 0:
        return "0s"
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        n, seconds = divmod(seconds, size)
        if n:
            out += f"{n}{unit}"
    return out


class _Differ:
    def __init__(self, old: Flow, new: Flow):
        self.old = old
        self.new = new
        self.changes: list[C.Change] = []

    def add(self, cls: type[C.Change], path: tuple, subject: str = "the flow", old: Any = None, new: Any = None,
            **ctx: Any) -> None:
        self.changes.append(cls(path, subject, old, new, **ctx))

    def text(self, path: tuple, subject: str, what: str, a: str | None, b: str | None) -> None:
        """Prose: compared with runs of white space folded (re-wrapping a paragraph is no change)."""
        if _ws(a) == _ws(b):
            return
        verb = "was added" if a is None else "was removed" if b is None else "changed"
        self.add(C.TextChanged, path, subject, a, b, what=what, verb=verb)

    # ------------------------------------------------------------- the flow
    def run(self) -> None:
        o, n = self.old, self.new
        if o.id != n.id:
            self.add(C.FlowIdChanged, ("id",), old=o.id, new=n.id)
        self.status()
        self.text(("title",), "the flow", "title", o.title, n.title)
        self.text(("summary",), "the flow", "summary", o.summary, n.summary)
        if sorted(o.tags) != sorted(n.tags):
            self.add(C.MetadataChanged, ("tags",), old=o.tags, new=n.tags, what="tags")
        ol, nl = o.links.model_dump(), n.links.model_dump()
        if ol != nl:
            self.add(C.MetadataChanged, ("links",), old=ol, new=nl, what="links")
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
        od, nd = o.deprecation, n.deprecation
        status_reported = False
        if n.status is Status.deprecated and o.status is not Status.deprecated:
            detail = ""
            if nd is not None:
                detail = f"; replaced by '{nd.replaced_by}'"
                if nd.sunset:
                    detail += f", sunset {nd.sunset.isoformat()}"
                detail += f"; migration: {nd.migration}"
            self.add(C.FlowDeprecated, ("status",), old=o.status, new=n.status, detail=detail)
            status_reported = True
        elif o.status is Status.deprecated and n.status is not Status.deprecated:
            if od is not None and od.replaced_by == n.id and o.version != n.version:
                detail = f"version {n.version} is the replacement of the deprecated version {o.version}"
            else:
                detail = f"the flow is no longer deprecated (now {n.status.value})"
            self.add(C.FlowUndeprecated, ("status",), old=o.status, new=n.status, detail=detail)
            status_reported = True
        elif o.status is not n.status:
            self.add(C.FlowStatusChanged, ("status",), old=o.status, new=n.status)
        if status_reported:
            return
        self.sunset(od.sunset if od else None, nd.sunset if nd else None)
        if od is not None or nd is not None:
            for fld in ("replaced_by", "migration", "reason"):
                a = getattr(od, fld) if od else None
                b = getattr(nd, fld) if nd else None
                if _ws(a) != _ws(b):
                    self.add(C.ReplacementChanged, ("deprecation", fld), old=a, new=b, what=fld.replace("_", " "))

    def sunset(self, a, b) -> None:
        if a == b:
            return
        path = ("deprecation", "sunset")
        if b is not None and (a is None or b < a):
            detail = f"is now {b.isoformat()}" + (f" (was {a.isoformat()})" if a else " (none before)")
            self.add(C.SunsetBroughtForward, path, old=a, new=b, detail=detail)
        else:
            detail = f"moved from {a.isoformat()} to {b.isoformat()}" if b else f"{a.isoformat()} was withdrawn"
            self.add(C.SunsetPostponed, path, old=a, new=b, detail=detail)

    # --------------------------------------------------------------- actors
    def actors(self) -> None:
        o, n = self.old.actors, self.new.actors
        for name in _only(o, n):
            self.add(C.ActorRemoved, ("actors", name), f"actor '{name}'", old=o[name].name)
        for name, b in n.items():
            path = ("actors", name)
            subject = f"actor '{name}'"
            a = o.get(name)
            if a is None:
                self.add(C.ActorAdded, path, subject, new=b.name)
                continue
            if a.kind is not b.kind:
                self.add(C.ActorKindChanged, path + ("kind",), subject, a.kind, b.kind)
            if a.base_url != b.base_url:
                self.add(C.ActorBaseUrlChanged, path + ("base_url",), subject, a.base_url, b.base_url)
            self.text(path + ("name",), subject, "name", a.name, b.name)
            self.text(path + ("description",), subject, "description", a.description, b.description)

    # --------------------------------------------------------------- inputs
    def inputs(self) -> None:
        o, n = self.old.inputs, self.new.inputs
        used_by_client = inputs_used(self.new)
        for name in _only(o, n):
            self.add(C.InputRemoved, ("inputs", name), f"input '{name}'")
        for name, b in n.items():
            path = ("inputs", name)
            subject = f"input '{name}'"
            a = o.get(name)
            if a is None:
                if b.default is not None:
                    self.add(C.InputOptionalAdded, path, subject, new=_default(b))
                elif name in used_by_client:
                    self.add(C.InputRequiredAdded, path, subject)
                else:
                    self.add(C.TestInputAdded, path, subject)
                continue
            if a.default is not None and b.default is None:
                self.add(C.InputBecameRequired, path, subject, _default(a), None)
            elif a.default is None and b.default is not None:
                self.add(C.InputChanged, path + ("default",), subject, None, _default(b), what="the default")
            elif not _same(a.default, b.default):
                self.add(C.InputDefaultChanged, path + ("default",), subject, _default(a), _default(b))
            for fld, what in (("secret", "secret"), ("env", "the environment variable")):
                if getattr(a, fld) != getattr(b, fld):
                    self.add(C.InputChanged, path + (fld,), subject, getattr(a, fld), getattr(b, fld), what=what)
            self.text(path + ("description",), subject, "description", a.description, b.description)
            self.text(path + ("example",), subject, "example", a.example, b.example)

    # ------------------------------------------------------------- generate
    def generate(self) -> None:
        o, n = self.old.generate, self.new.generate
        for name in _only(o, n):
            self.add(C.GeneratorRemoved, ("generate", name), f"generated value '{name}'", old=o[name].kind)
        for name, b in n.items():
            path = ("generate", name)
            subject = f"generated value '{name}'"
            a = o.get(name)
            if a is None:
                self.add(C.GeneratorAdded, path, subject, new=b.kind)
                continue
            for fld in ("kind", "method", "bytes", "digits", "period", "secret"):
                if getattr(a, fld) != getattr(b, fld):
                    self.add(C.GeneratorChanged, path + (fld,), subject, getattr(a, fld), getattr(b, fld), what=fld)

    # ------------------------------------------------------------- requires
    def requires(self) -> None:
        o, n = self.old.requires, self.new.requires
        for name in _only(o, n):
            self.add(C.RequirementRemoved, ("requires", name), f"requirement '{name}'", old=o[name].flow)
        for name, b in n.items():
            path = ("requires", name)
            subject = f"requirement '{name}'"
            a = o.get(name)
            if a is None:
                self.add(C.RequirementAdded, path, subject, new=b.flow)
                continue
            if a.flow != b.flow:
                self.add(C.RequirementChanged, path + ("flow",), subject, a.flow, b.flow, what="the flow")
            for key in sorted(a.provides.keys() | b.provides.keys()):
                if a.provides.get(key) != b.provides.get(key):
                    self.add(C.RequirementChanged, path + ("provides", key), subject, a.provides.get(key),
                             b.provides.get(key), what=f"the source of '{key}'")
            self.text(path + ("title",), subject, "title", a.title, b.title)

    # --------------------------------------------------------------- states
    def states(self) -> None:
        o, n = self.old.state_map, self.new.state_map
        for sid in o:
            if sid not in n:
                self.add(C.StateRemoved, ("states", sid), f"state '{sid}'", old=o[sid].label)
        oi, ni = self.old.initial_state, self.new.initial_state
        if (oi and oi.id) != (ni and ni.id):
            self.add(C.InitialStateChanged, ("states", ni.id if ni else ""), old=oi and oi.id, new=ni and ni.id)
        for sid, b in n.items():
            path = ("states", sid)
            subject = f"state '{sid}'"
            a = o.get(sid)
            if a is None:
                self.add(C.StateAdded, path, subject, new=b.label)
                continue
            for fld in ("terminal", "failure"):
                if getattr(a, fld) != getattr(b, fld):
                    detail = f"is {'now' if getattr(b, fld) else 'no longer'} a {fld} state"
                    self.add(C.StateKindChanged, path + (fld,), subject, getattr(a, fld), getattr(b, fld),
                             detail=detail)
            self.text(path + ("title",), subject, "title", a.title, b.title)
            self.text(path + ("description",), subject, "description", a.description, b.description)
            self.text(path + ("handoff",), subject, "handoff", a.handoff, b.handoff)

    # ---------------------------------------------------------- transitions
    def transitions(self) -> None:
        o, n = self.old.transition_map, self.new.transition_map
        old_hp = {t.id for t in self.old.happy_path()}
        new_hp = {t.id for t in self.new.happy_path()}
        for tid, a in o.items():
            if tid not in n:
                self.add(C.TransitionRemoved, ("transitions", tid), f"transition '{tid}'", old=_route(a))
        for tid, b in n.items():
            path = ("transitions", tid)
            subject = f"transition '{tid}'"
            a = o.get(tid)
            if tid in new_hp and tid not in old_hp:
                kind = C.HappyPathStepAdded if b.is_http and not b.internal else C.HappyPathActionAdded
                self.add(kind, path, subject, new=_route(b))
            elif a is None:
                self.add(C.TransitionAdded, path, subject, new=_route(b))
            if a is None:
                continue
            if tid in old_hp and tid not in new_hp:
                self.add(C.HappyPathStepRemoved, path, subject)
            self.transition(path, subject, a, b)

    def transition(self, path: tuple, subject: str, a: Transition, b: Transition) -> None:
        for key, x, y in (("from", a.from_, b.from_), ("to", a.to, b.to)):
            if x != y:
                self.add(C.TransitionStatesChanged, path + (key,), subject, x, y, what=f"'{key}'")
        if (a.sender, a.receiver) != (b.sender, b.receiver):
            self.add(C.TransitionActorsChanged, path + ("by",), subject, C.Shown(f"{a.sender} -> {a.receiver}"),
                     C.Shown(f"{b.sender} -> {b.receiver}"))
        ga = (_ws(a.guard.text), a.guard.expr) if a.guard else None
        gb = (_ws(b.guard.text), b.guard.expr) if b.guard else None
        if ga != gb:
            if ga is None:
                self.add(C.GuardAdded, path + ("guard",), subject, None, _guard(b.guard))
            elif gb is None:
                self.add(C.GuardRemoved, path + ("guard",), subject, _guard(a.guard), None)
            else:
                self.add(C.GuardChanged, path + ("guard",), subject, _guard(a.guard), _guard(b.guard))
        for fld in ("wait", "parallel", "internal"):
            if getattr(a, fld) != getattr(b, fld):
                self.add(C.TransitionOptionsChanged, path + (fld,), subject, getattr(a, fld), getattr(b, fld),
                         what=fld)
        for fld in ("title", "description", "trigger", "action"):
            self.text(path + (fld,), subject, fld, getattr(a, fld), getattr(b, fld))
        ra, rb = a.request, b.request
        if ra is None and rb is not None:
            self.add(C.RequestAdded, path + ("request",), subject, None, C.Shown(f"{rb.method} {rb.path}"))
        elif ra is not None and rb is None:
            self.add(C.RequestRemoved, path + ("request",), subject, C.Shown(f"{ra.method} {ra.path}"), None)
        elif ra is not None and rb is not None:
            rsubject = f"{subject} ({rb.method} {rb.path})"
            self.request(path + ("request",), rsubject, ra, rb)
            if a.response is not None and b.response is not None:
                self.response(path + ("response",), rsubject, a.response, b.response)
        self.failures(path, a, b)

    # -------------------------------------------------------------- request
    def request(self, path: tuple, subject: str, a: Request, b: Request) -> None:
        if a.method != b.method:
            self.add(C.EndpointMethodChanged, path + ("method",), subject, a.method, b.method)
        if a.path != b.path:
            self.add(C.EndpointPathChanged, path + ("path",), subject, a.path, b.path)
        if a.url != b.url:
            self.add(C.RequestUrlChanged, path + ("url",), subject, a.url, b.url)
        if a.auth != b.auth:
            self.add(C.ClientAuthChanged, path + ("auth",), subject, a.auth, b.auth)
        elif a.token != b.token:
            self.add(C.BearerTokenChanged, path + ("token",), subject, a.token, b.token)
        self.params(path, subject, a, b)
        for fld in ("submit_form", "follow_redirects", "timeout", "retry", "key_params", "client_id", "client_secret"):
            x, y = getattr(a, fld), getattr(b, fld)
            if x != y:
                self.add(C.RequestOptionsChanged, path + (fld,), subject, x, y, what=fld)

    def params(self, path: tuple, subject: str, a: Request, b: Request) -> None:
        pa, pb = _params(a), _params(b)
        removed = {(loc, k): v for loc, d in pa.items() for k, v in d.items() if k not in pb.get(loc, {})}
        added = {(loc, k): v for loc, d in pb.items() for k, v in d.items() if k not in pa.get(loc, {})}
        # a parameter that left one place and arrived in another has moved
        for (loc_a, k), (name_a, va) in list(removed.items()):
            dest = next(((loc_b, kb) for (loc_b, kb) in added if kb == k), None)
            if dest is None:
                continue
            name_b, vb = added.pop(dest)
            del removed[(loc_a, k)]
            self.add(C.ParamLocationChanged, path + (dest[0], name_b), subject, va, vb, name=f"'{name_b}'",
                     old_kind=_place(loc_a), new_kind=_place(dest[0]))
        for (loc, _k), (name, va) in removed.items():
            self.add(C.ParamRemoved, path + (loc, name), subject, va, None, where_kind=_PARAM_KINDS[loc],
                     name=f"'{name}'")
        for (loc, _k), (name, vb) in added.items():
            self.add(C.ParamRequiredAdded, path + (loc, name), subject, None, vb, where_kind=_PARAM_KINDS[loc],
                     name=f"'{name}'")
        for loc, d in pb.items():
            for k, (name, vb) in d.items():
                if k in pa.get(loc, {}):
                    va = pa[loc][k][1]
                    if not _same(va, vb):
                        self.add(C.ParamValueChanged, path + (loc, name), subject, va, vb,
                                 where_kind=_PARAM_KINDS[loc], name=f"'{name}'")
        # a JSON body that is not an object is compared whole
        ja, jb = a.json_body, b.json_body
        if (not isinstance(ja, dict) or not isinstance(jb, dict)) and (ja is not None or jb is not None):
            if ja != jb and not (isinstance(ja, dict) and jb is None) and not (ja is None and isinstance(jb, dict)):
                self.add(C.ParamValueChanged, path + ("json",), subject, ja, jb, where_kind="JSON body",
                         name="(whole body)")

    # ------------------------------------------------------------- response
    def response(self, path: tuple, subject: str, a: Response, b: Response) -> None:
        if sorted(a.statuses) != sorted(b.statuses):
            self.add(C.StatusChanged, path + ("status",), subject, _status(a.status), _status(b.status))
        if a.error != b.error:
            self.add(C.ErrorCodeChanged, path + ("error",), subject, a.error, b.error)
        if a.content_type != b.content_type:
            self.add(C.ContentTypeChanged, path + ("content_type",), subject, a.content_type, b.content_type,
                     what="the content type")
        if a.form != b.form:
            self.add(C.ContentTypeChanged, path + ("form",), subject, a.form, b.form, what="'an HTML form'")
        self.body(path, subject, a.fields, a.body, b.fields, b.body)
        self.keyed(path + ("headers",), subject, "response header", a.headers, b.headers, fold_case=True)
        self.redirect(path + ("redirect",), subject, a.redirect, b.redirect)
        for name in _only(a.capture, b.capture):
            self.add(C.CaptureRemoved, path + ("capture", name), subject, a.capture[name].source, None,
                     name=f"'{name}'")
        for name, cb in b.capture.items():
            ca = a.capture.get(name)
            if ca is None:
                self.add(C.CaptureAdded, path + ("capture", name), subject, None, cb.source, name=f"'{name}'")
            elif ca.source != cb.source:
                self.add(C.CaptureSourceChanged, path + ("capture", name), subject, ca.source, cb.source,
                         name=f"'{name}'")
        self.jwts(path + ("jwt",), subject, a.jwt, b.jwt)
        self.text(path + ("description",), subject, "response description", a.description, b.description)

    def body(self, path: tuple, subject: str, fa: list[str], ba: dict, fb: list[str], bb: dict) -> None:
        """Documented body fields: ``fields`` (present) and ``body`` (present with this value)."""
        da = {**{f: None for f in fa}, **ba}
        db = {**{f: None for f in fb}, **bb}
        for name in da:
            if name not in db:
                where = path + ("body" if name in ba else "fields", name)
                self.add(C.ResponseFieldRemoved, where, subject, da[name], None, where_kind="response field",
                         name=f"'{name}'")
        for name, vb in db.items():
            where = path + ("body" if name in bb else "fields", name)
            if name not in da:
                detail = "is new" + (f", with value {C.show(vb)}" if name in bb else "")
                self.add(C.ResponseFieldAdded, where, subject, None, vb, where_kind="response field",
                         name=f"'{name}'", detail=detail)
            else:
                self.value(where, subject, "response field", name, da[name], vb, name in ba, name in bb)

    def value(self, where: tuple, subject: str, kind: str, name: str, va: Any, vb: Any, pinned_a: bool,
              pinned_b: bool) -> None:
        """A documented value; unpinned means 'present, any value'."""
        if pinned_a and pinned_b and not _same(va, vb):
            self.add(C.ResponseValueChanged, where, subject, va, vb, where_kind=kind, name=f"'{name}'")
        elif pinned_a and not pinned_b:
            self.add(C.ResponseValueChanged, where, subject, va, "any value", where_kind=kind, name=f"'{name}'")
        elif pinned_b and not pinned_a:
            self.add(C.ResponseFieldAdded, where, subject, None, vb, where_kind=kind, name=f"'{name}'",
                     detail=f"is now documented as {C.show(vb)}")

    def keyed(self, path: tuple, subject: str, kind: str, a: dict, b: dict, *, fold_case: bool = False) -> None:
        """Headers and redirect query parameters: ``null`` means present with any value."""
        key = (lambda k: k.lower()) if fold_case else (lambda k: k)
        ka = {key(k): (k, v) for k, v in a.items()}
        kb = {key(k): (k, v) for k, v in b.items()}
        for k, (name, va) in ka.items():
            if k not in kb:
                self.add(C.ResponseFieldRemoved, path + (name,), subject, va, None, where_kind=kind, name=f"'{name}'")
        for k, (name, vb) in kb.items():
            if k not in ka:
                detail = "is new" + (f", with value {C.show(vb)}" if vb is not None else "")
                self.add(C.ResponseFieldAdded, path + (name,), subject, None, vb, where_kind=kind, name=f"'{name}'",
                         detail=detail)
            else:
                va = ka[k][1]
                self.value(path + (name,), subject, kind, name, va, vb, va is not None, vb is not None)

    def redirect(self, path: tuple, subject: str, a: Redirect | None, b: Redirect | None) -> None:
        ta = a.to if a else None
        tb = b.to if b else None
        if (a is None) != (b is None) or ta != tb:
            self.add(C.RedirectChanged, path, subject, ta if a else None, tb if b else None)
        if a is not None and b is not None:
            self.keyed(path + ("query",), subject, "redirect query parameter", a.query, b.query)

    def jwts(self, path: tuple, subject: str, a: list[JwtCheck], b: list[JwtCheck]) -> None:
        ma = {j.token: j for j in a}
        mb = {j.token: j for j in b}
        for tok in _only(ma, mb):
            self.add(C.JwtCheckRemoved, path + (tok,), subject, name=f"'{tok}'")
        for tok, jb in mb.items():
            ja = ma.get(tok)
            p = path + (tok,)
            name = f"'{tok}'"
            if ja is None:
                self.add(C.JwtCheckAdded, p, subject, name=name)
                continue
            for claim in [c for c in jb.required if c not in ja.required]:
                self.add(C.JwtClaimRequiredAdded, p + ("required", claim), subject, None, claim, name=name)
            for claim in [c for c in ja.required if c not in jb.required]:
                self.add(C.JwtClaimRequiredRemoved, p + ("required",), subject, claim, None, name=name)
            for claim, vb in jb.claims.items():
                if claim not in ja.claims:
                    self.add(C.JwtClaimAdded, p + ("claims", claim), subject, None, vb, name=name, claim=f"'{claim}'")
                elif not _same(ja.claims[claim], vb):
                    self.add(C.JwtClaimChanged, p + ("claims", claim), subject, ja.claims[claim], vb, name=name,
                             claim=f"'{claim}'")
            for claim, va in ja.claims.items():
                if claim not in jb.claims:
                    self.add(C.JwtClaimChanged, p + ("claims",), subject, va, "any value", name=name,
                             claim=f"'{claim}'")
            for fld, cls in (("iss", C.JwtIssChanged), ("aud", C.JwtAudChanged), ("nonce", C.JwtNonceChanged)):
                if getattr(ja, fld) != getattr(jb, fld):
                    self.add(cls, p + (fld,), subject, getattr(ja, fld), getattr(jb, fld), name=name)
            for fld, what in (("jwks", "key set (jwks)"), ("exp", "expiry check")):
                if getattr(ja, fld) != getattr(jb, fld):
                    self.add(C.JwtOptionsChanged, p + (fld,), subject, getattr(ja, fld), getattr(jb, fld), name=name,
                             what=what)

    # ------------------------------------------------------------- failures
    def failures(self, path: tuple, a: Transition, b: Transition) -> None:
        pairs, gone, new = _match_failures(a.failures, b.failures)
        tsub = f"transition '{b.id}'"
        for f in gone:
            self.add(C.FailureBranchRemoved, path + ("failures", f.id), f"failure '{f.id}' of {tsub}",
                     old=_failure_label(f.response))
        for fa, fb in pairs:
            p = path + ("failures", fb.id)
            subject = f"failure '{fb.id}' of {tsub}"
            ra, rb = fa.response, fb.response
            sa = ra.status if ra.outcome == "response" else C.Shown(ra.outcome)
            sb = rb.status if rb.outcome == "response" else C.Shown(rb.outcome)
            if sa != sb:
                self.add(C.StatusChanged, p + ("response", "status"), subject, sa, sb)
            if ra.error != rb.error:
                self.add(C.ErrorCodeChanged, p + ("response", "error"), subject, ra.error, rb.error)
            self.body(p + ("response",), subject, ra.fields, {}, rb.fields, {})
            self.keyed(p + ("response", "headers"), subject, "response header", ra.headers, rb.headers,
                       fold_case=True)
            self.redirect(p + ("response", "redirect"), subject, ra.redirect, rb.redirect)
            ta, tb = fa.to or a.from_, fb.to or b.from_
            if ta != tb:
                self.add(C.FailureTargetChanged, p + ("to",), subject, ta, tb)
            if fa.retry != fb.retry:
                self.add(C.FailureRetryChanged, p + ("retry",), subject, fa.retry, fb.retry)
            if fa.provoke.model_dump(exclude={"description"}) != fb.provoke.model_dump(exclude={"description"}):
                self.add(C.ProvokeChanged, p + ("provoke",), subject)
            if fa.id != fb.id:
                self.text(p + ("id",), subject, "id", fa.id, fb.id)
            for fld, what in (("title", "title"), ("when", "condition (when)"), ("remedy", "remedy")):
                self.text(p + (fld,), subject, what, getattr(fa, fld), getattr(fb, fld))
            self.text(p + ("provoke", "description"), subject, "provoke description", fa.provoke.description,
                      fb.provoke.description)
            self.text(p + ("response", "description"), subject, "response description", ra.description,
                      rb.description)
        for f in new:
            self.add(C.FailureBranchAdded, path + ("failures", f.id), f"failure '{f.id}' of {tsub}",
                     new=C.Shown(f"{_failure_label(f.response)} when {f.when}"))

    # ---------------------------------------------------------------- paths
    def paths(self) -> None:
        o = {p.id: p for p in self.old.paths}
        n = {p.id: p for p in self.new.paths}
        for pid in _only(o, n):
            self.add(C.PathRemoved, ("paths", pid), f"path '{pid}'", old=o[pid].steps)
        for pid, b in n.items():
            subject = f"path '{pid}'"
            a = o.get(pid)
            if a is None:
                self.add(C.PathAdded, ("paths", pid), subject, new=b.steps)
                continue
            if a.steps != b.steps:
                self.add(C.PathChanged, ("paths", pid, "steps"), subject, C.Shown(" → ".join(a.steps)),
                         C.Shown(" → ".join(b.steps)))
            self.text(("paths", pid, "title"), subject, "title", a.title, b.title)

    # ------------------------------------------------------------ lifecycle
    def lifecycle(self, a: Lifecycle, b: Lifecycle) -> None:
        for name in _only(a.tokens, b.tokens):
            self.add(C.TokenRemoved, ("lifecycle", "tokens", name), f"token '{name}'")
        for name, tb in b.tokens.items():
            path = ("lifecycle", "tokens", name)
            ta = a.tokens.get(name)
            if ta is None:
                self.add(C.TokenAdded, path, f"token '{name}'", new=tb.ttl)
                continue
            self.token(path, f"token '{name}'", ta, tb)
        for platform in _only(a.storage, b.storage):
            self.add(C.StorageChanged, ("lifecycle", "storage", platform), old=a.storage[platform], name=platform,
                     detail="was removed")
        for platform, vb in b.storage.items():
            va = a.storage.get(platform)
            path = ("lifecycle", "storage", platform)
            if va is None:
                self.add(C.StorageAdded, path, new=vb, name=platform)
            elif _ws(va) != _ws(vb):
                self.add(C.StorageChanged, path, old=va, new=vb, name=platform, detail=f"is now: {vb}")
        # lists of sentences: compared by their words; a new item's path is its position in the new list
        ra = {_key(x) for x in a.reauthenticate}
        rb = {_key(x) for x in b.reauthenticate}
        for x in a.reauthenticate:
            if _key(x) not in rb:
                self.add(C.ReauthConditionRemoved, ("lifecycle", "reauthenticate"), old=x)
        for i, x in enumerate(b.reauthenticate):
            if _key(x) not in ra:
                self.add(C.ReauthConditionAdded, ("lifecycle", "reauthenticate", i), new=x)
        ca = {_key(x) for x in a.caching}
        cb = {_key(x) for x in b.caching}
        for x in a.caching:
            if _key(x) not in cb:
                self.add(C.CachingChanged, ("lifecycle", "caching"), old=x, verb="removed", value=x)
        for i, x in enumerate(b.caching):
            if _key(x) not in ca:
                self.add(C.CachingChanged, ("lifecycle", "caching", i), new=x, verb="added", value=x)
        self.text(("lifecycle", "notes"), "the lifecycle", "notes", a.notes, b.notes)

    def token(self, path: tuple, subject: str, a: TokenLifecycle, b: TokenLifecycle) -> None:
        for fld, what in (("ttl", "lifetime (ttl)"), ("idle_ttl", "idle lifetime (idle_ttl)")):
            x, y = getattr(a, fld), getattr(b, fld)
            if x == y:
                continue
            ctx = {"what": what, "old_d": duration(x), "new_d": duration(y)}
            if x is not None and y is not None:
                self.add(C.TtlShortened if y < x else C.TtlLengthened, path + (fld,), subject, x, y, **ctx)
            else:
                detail = f"is now documented: {duration(y)}" if x is None else f"({duration(x)}) is no longer documented"
                self.add(C.TtlChanged, path + (fld,), subject, x, y, detail=detail, **ctx)
        if a.format != b.format:
            cls = C.TokenFormatChanged if a.format and b.format else C.LifecycleChanged
            self.add(cls, path + ("format",), subject, a.format, b.format, what="format")
        for fld, what in (("rotates", "rotation"), ("single_use", "single use")):
            x, y = getattr(a, fld), getattr(b, fld)
            if x is not True and y is True:
                self.add(C.RotationEnabled, path + (fld,), subject, x, y, what=what)
            elif x is True and y is not True:
                self.add(C.RotationChanged, path + (fld,), subject, x, y, what=what)
        if _ws(a.rotation) != _ws(b.rotation):
            self.add(C.RotationChanged, path + ("rotation",), subject, a.rotation, b.rotation, what="the rotation rule")
        for fld, what in (("refresh_ahead", "refresh-ahead"), ("revocation", "revocation")):
            x, y = getattr(a, fld), getattr(b, fld)
            if (_ws(x) if isinstance(x, str) else x) != (_ws(y) if isinstance(y, str) else y):
                if fld == "refresh_ahead":
                    x, y = (C.Shown(duration(v)) if v is not None else None for v in (x, y))
                self.add(C.LifecycleChanged, path + (fld,), subject, x, y, what=what)
        self.text(path + ("description",), subject, "description", a.description, b.description)

    # ------------------------------------------------------ troubleshooting
    def troubleshooting(self) -> None:
        o = {_key(t.error): t for t in self.old.troubleshooting}
        n = {_key(t.error): t for t in self.new.troubleshooting}
        for k, t in o.items():
            if k not in n:
                self.add(C.TroubleshootingChanged, ("troubleshooting",), old=t.error, name=f"'{t.error}'",
                         verb="was removed")
        for k, t in n.items():
            path = ("troubleshooting", t.error)
            if k not in o:
                self.add(C.TroubleshootingChanged, path, new=t.error, name=f"'{t.error}'", verb="was added")
                continue
            a = o[k]
            ta = (a.status, _ws(a.cause), _ws(a.remedy))
            tb = (t.status, _ws(t.cause), _ws(t.remedy))
            if ta != tb:
                self.add(C.TroubleshootingChanged, path, old=a.error, new=t.error, name=f"'{t.error}'",
                         verb="changed")


# ------------------------------------------------------------------ helpers


def _default(inp) -> Any:
    """An input's default as a change may show it: never the value of a secret input."""
    return C.Shown("(secret)") if inp.secret and inp.default is not None else inp.default


def _only(a: dict, b: dict) -> list:
    """Keys of ``a`` that ``b`` lacks, in ``a``'s order."""
    return [k for k in a if k not in b]


def _route(t: Transition) -> C.Shown:
    what = f"{t.request.method} {t.request.path}" if t.request else (t.action or t.title)
    return C.Shown(f"{t.from_} → {t.to}, {t.sender} -> {t.receiver}: {what}")


def _guard(t_guard) -> str:
    return t_guard.text + (f" [{t_guard.expr}]" if t_guard.expr else "")


def _status(s: int | list[int]) -> C.Shown:
    return C.Shown(", ".join(str(x) for x in s) if isinstance(s, list) else str(s))


def _key(text: str) -> str:
    return " ".join(text.split()).lower()


def _place(loc: str) -> str:
    return {"params": "path", "query": "query", "form": "form body", "json": "JSON body", "headers": "headers"}[loc]


def _params(r: Request) -> dict[str, dict[str, tuple[str, Any]]]:
    """Parameters by place; each key normalised (headers case-insensitive) → (name as written, value)."""
    out: dict[str, dict[str, tuple[str, Any]]] = {
        "params": {k: (k, v) for k, v in r.params.items()},
        "query": {k: (k, v) for k, v in r.query.items()},
        "form": {k: (k, v) for k, v in (r.form or {}).items()},
        "json": {k: (k, v) for k, v in r.json_body.items()} if isinstance(r.json_body, dict) else {},
        "headers": {k.lower(): (k, v) for k, v in r.headers.items()},
    }
    return out


def _failure_label(r: FailureResponse) -> C.Shown:
    if r.outcome != "response":
        return C.Shown(r.outcome)
    return C.Shown(f"{r.status}" + (f" {r.error}" if r.error else ""))


def _match_failures(a: Iterable, b: Iterable):
    """Pair failures by id; then, among the rest, by the same status, error and outcome (a renamed branch)."""
    a, b = list(a), list(b)
    bid = {f.id: f for f in b}
    pairs = [(f, bid[f.id]) for f in a if f.id in bid]
    paired_b = {fb.id for _fa, fb in pairs}
    rest_a = [f for f in a if f.id not in bid]
    rest_b = [f for f in b if f.id not in paired_b and f.id not in {x.id for x in a}]
    gone = []
    for fa in rest_a:
        sig = (fa.response.status, fa.response.error, fa.response.outcome)
        match = next((fb for fb in rest_b if (fb.response.status, fb.response.error, fb.response.outcome) == sig), None)
        if match is None:
            gone.append(fa)
        else:
            rest_b.remove(match)
            pairs.append((fa, match))
    return pairs, gone, rest_b
