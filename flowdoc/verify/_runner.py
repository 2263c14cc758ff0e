"""Running scenarios: render each step's request, send it, check the documented response."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets as _secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import pyotp

from ..model.expr import ExprError, Guard, lookup, render
from ..model.expr import as_text as _text
from ..model.flow import (
    CLIENT_SECRET_AUTH,
    parallel_groups,
    Failure,
    FailureResponse,
    Flow,
    GenerateKind,
    Request,
    RequestPatch,
    Response,
    Transition,
    parse_duration,
)
from ._http import (
    BadResponse,
    Exchanger,
    InsecureTransport,
    Outgoing,
    Received,
    TimedOut,
    Unreachable,
    basic_credentials,
    redact_url,
    request_excerpt,
    response_excerpt,
)
from ._detect import Publicity, note_request, register_response
from ._inputs import InputSources
from ._jwt import JwksCache, JwksError, verify_jwt
from ._limits import install_deadline
from ._plan import Scenario
from ._redact import Redactor
from ._result import ERROR, FAILED, PASSED, SKIPPED, CheckFailure, FailureDetail, ScenarioResult, StepRecord

_MISSING = object()
_NO_PATCH = RequestPatch()


# ------------------------------------------------------------------ outcomes


class _Halt(Exception):
    pass


class ConformanceFailure(_Halt):
    def __init__(self, step: str, role: str, message: str, checks: list[CheckFailure] | None = None,
                 request: str | None = None, response: str | None = None):
        super().__init__(message)
        self.detail = FailureDetail(step, role, message, checks or [], request, response)


class UsageProblem(_Halt):
    """The run cannot proceed as configured (missing input, insecure transport, bad reference)."""


class SkipScenario(_Halt):
    pass


# ------------------------------------------------------------------ run-level context


class _SharedTransport(httpx.BaseTransport):
    """One connection pool for the whole run; closing a scenario's client leaves it open."""

    def __init__(self, inner: httpx.BaseTransport):
        self.inner = inner
        install_deadline(inner)  # --timeout bounds each whole exchange, not each socket read

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:  # closed by the run
        pass


@dataclass
class RunContext:
    redactor: Redactor
    inputs: InputSources
    base_url: str | None
    timeout: float
    allow_insecure_http: bool
    max_wait: float
    transport: httpx.BaseTransport
    user_agent: str
    jwks: JwksCache = field(init=False)
    _meta: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self._meta = self.new_client()
        self.jwks = JwksCache(self._fetch_json)
        self._idle: list[httpx.Client] = []
        self._idle_lock = threading.Lock()

    def acquire_client(self) -> httpx.Client:
        """A client with an empty cookie jar (clients are reused; their jars never are)."""
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()
        return self.new_client()

    def release_client(self, client: httpx.Client) -> None:
        client.cookies.clear()
        with self._idle_lock:
            self._idle.append(client)

    def new_client(self) -> httpx.Client:
        return httpx.Client(
            transport=_SharedTransport(self.transport),
            follow_redirects=False,
            trust_env=False,  # no proxies and no .netrc credentials slipped in from the environment
            timeout=self.timeout,
            headers={"User-Agent": self.user_agent},
        )

    def _fetch_json(self, url: str) -> Any:
        ex = Exchanger(self._meta, self.redactor, allow_insecure_http=self.allow_insecure_http)
        try:
            _req, got = ex.send(Outgoing("GET", url, [("Accept", "application/json")], timeout=self.timeout))
        except (Unreachable, TimedOut, BadResponse) as exc:
            raise JwksError(f"GET {url}: {exc}") from None
        if got.status != 200 or got.json is None:
            raise JwksError(f"GET {url} answered {got.status}")
        return got.json

    def close(self) -> None:
        self._meta.close()
        with self._idle_lock:
            for c in self._idle:
                c.close()
            self._idle.clear()


# ------------------------------------------------------------------ per-flow state


@dataclass
class StepData:
    got: Received | None
    captures: dict[str, Any]


class FlowState:
    """Values of one flow inside a scenario: inputs, generated values, captures, requirements."""

    def __init__(self, run: "ScenarioRun", flow: Flow, requirement_values: dict[str, dict[str, Any]]):
        self.run = run
        self.flow = flow
        self.steps: dict[str, StepData] = {}
        self.generated: dict[str, Any] = {}
        self.requirement_values = requirement_values
        self._inputs: dict[str, Any] = {}
        self._lock = threading.Lock()

    # values
    def input(self, name: str) -> Any:
        if name in self._inputs:
            return self._inputs[name]
        found = self.run.ctx.inputs.lookup(self.flow, name)
        if found is None:
            inp = self.flow.inputs.get(name)
            var = inp.env_var if inp else "FLOWDOC_" + name.upper()
            raise UsageProblem(f"input '{name}' of flow '{self.flow.id}' has no value: pass --input {name}=..., "
                               f"set ${var}, or add it to --env-file")
        value = found[0]
        inp = self.flow.inputs.get(name)
        if inp is not None and inp.secret:
            self.run.ctx.redactor.add(value, self.run.ctx.inputs.label(self.flow, name), numbered=False,
                                      declared=True)
        self._inputs[name] = value
        return value

    def generate(self, name: str, part: tuple[str, ...]) -> Any:
        gen = self.flow.generate[name]
        red = self.run.ctx.redactor
        if gen.kind is GenerateKind.totp:
            secret = self.render(gen.secret, {})
            try:
                code = pyotp.TOTP(str(secret), digits=gen.digits, interval=gen.period).now()
            except Exception:
                raise UsageProblem(f"generate.{name}: the TOTP secret is not valid base32") from None
            red.add(code, name, declared=True)
            return code
        with self._lock:
            if name not in self.generated:
                if gen.kind is GenerateKind.pkce:
                    verifier = _secrets.token_urlsafe(min(max(gen.bytes, 32), 96))
                    if gen.method == "S256":
                        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                        challenge = challenge.rstrip(b"=").decode("ascii")
                    else:
                        challenge = verifier
                    red.add(verifier, f"{name}.verifier", declared=True)
                    self.generated[name] = {"verifier": verifier, "challenge": challenge, "method": gen.method}
                elif gen.kind is GenerateKind.uuid:
                    self.generated[name] = str(uuid.uuid4())
                else:
                    self.generated[name] = _secrets.token_urlsafe(gen.bytes)
            value = self.generated[name]
        if part:
            return value[part[0]] if isinstance(value, dict) else _raise_ref(f"{name}.{part[0]}")
        return value

    def resolver(self, overrides: dict[str, Any]) -> Callable[[tuple[str, ...]], Any]:
        def resolve(path: tuple[str, ...]) -> Any:
            root = path[0]
            if root == "inputs" and len(path) == 2:
                if path[1] in overrides:
                    return overrides[path[1]]
                return self.input(path[1])
            if root == "steps" and len(path) >= 3:
                step = self.steps.get(path[1])
                if step is None:
                    raise UsageProblem(f"'${{{'.'.join(path)}}}': step '{path[1]}' has not run in this scenario")
                return step_value(step, path[2:], self.run.client)
            if root in self.flow.generate:
                return self.generate(root, path[1:])
            if root in self.requirement_values and len(path) == 2:
                vals = self.requirement_values[root]
                if path[1] in vals:
                    return vals[path[1]]
            return _raise_ref(".".join(path))

        return resolve

    def render(self, value: Any, overrides: dict[str, Any]) -> Any:
        try:
            return render(value, self.resolver(overrides))
        except ExprError as exc:
            raise UsageProblem(str(exc)) from None


def _raise_ref(text: str) -> Any:
    raise UsageProblem(f"'${{{text}}}' has no value in this scenario")


def response_part(got: Received, parts: tuple[str, ...], client: httpx.Client | None = None) -> Any:
    """``body.x``, ``headers.NAME``, ``location``, ``location.query.NAME``, ``location.fragment.NAME``,
    ``cookies.NAME``, ``form...``,
    ``status`` of a response; _MISSING when absent."""
    head, rest = parts[0], parts[1:]
    try:
        if head == "status":
            return got.status
        if head == "body":
            body = got.json if got.json is not None else got.text
            return lookup(body, rest) if rest else body
        if head == "headers":
            value = got.headers.get(rest[0]) if rest else None
            return _MISSING if value is None else value
        if head == "location":
            if not rest:
                return got.location if got.location is not None else _MISSING
            if rest[0] == "query" and len(rest) == 2:
                return got.location_query.get(rest[1], _MISSING)
            if rest[0] == "fragment" and len(rest) == 2:
                return got.location_fragment.get(rest[1], _MISSING)
            return _MISSING
        if head == "cookies":
            name = ".".join(rest)
            if name in got.cookies:
                return got.cookies[name]
            if client is not None:
                value = client.cookies.get(name)
                return value if value is not None else _MISSING
            return _MISSING
        if head == "form":
            form = got.form_capture()
            if form is None:
                return _MISSING
            if not rest:
                return form
            if rest[0] in ("action", "method") and len(rest) == 1:
                return form[rest[0]]
            if rest[0] == "fields" and len(rest) == 2:
                return form["fields"].get(rest[1], _MISSING)
            return _MISSING
    except (KeyError, IndexError, TypeError):
        return _MISSING
    return _MISSING


def step_value(step: StepData, parts: tuple[str, ...], client: httpx.Client | None) -> Any:
    name = parts[0]
    if name in step.captures:
        value = step.captures[name]
        if len(parts) > 1:
            try:
                return lookup(value, parts[1:])
            except KeyError:
                raise UsageProblem(f"capture '{name}' has no '{'.'.join(parts[1:])}'") from None
        return value
    if step.got is None:
        raise UsageProblem(f"'{'.'.join(parts)}' is not available: the step sent no request")
    value = response_part(step.got, parts, client)
    if value is _MISSING:
        raise UsageProblem(f"the response of the step has no '{'.'.join(parts)}'")
    return value


# ------------------------------------------------------------------ helpers


def _seconds(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise UsageProblem(f"{what}: {value!r} is not a duration")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    try:
        return float(parse_duration(text))
    except ValueError:
        raise UsageProblem(f"{what}: '{text}' is not a duration (seconds, or 90s, 15m ...)") from None


_SEGMENT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def path_pattern(path: str) -> re.Pattern:
    parts, last = [], 0
    for m in _SEGMENT.finditer(path):
        parts.append(re.escape(path[last:m.start()]))
        parts.append(r"[^/]+")
        last = m.end()
    parts.append(re.escape(path[last:]))
    return re.compile("(?:.*)?" + "".join(parts).rstrip("/") + "/?$")


def _fmt(v: Any) -> str:
    if v is _MISSING or v is None:
        return "(absent)"
    return v if isinstance(v, str) else repr(v)


def _redirect_problems(got: Received, to: str | None, query: dict[str, Any], render_fn) -> list[CheckFailure]:
    out: list[CheckFailure] = []
    loc = got.location
    if loc is None:
        return [CheckFailure("Location", "a redirect" + (f" to {render_fn(to)}" if to else ""), "no Location header")]
    if to:
        want = _text(render_fn(to))
        w, g = urlsplit(want), urlsplit(loc)
        if not w.scheme:  # relative: same origin as the request, path prefix
            req = urlsplit(got.url)
            same = (g.scheme, g.netloc) == (req.scheme, req.netloc)
            ok = same and (g.path == w.path or (w.path.endswith("/") and g.path.startswith(w.path)))
        else:
            ok = (g.scheme, g.netloc.lower()) == (w.scheme, w.netloc.lower()) and (
                g.path == w.path or w.path == "" or (w.path.endswith("/") and g.path.startswith(w.path))
            )
            if w.query:
                gq = dict(parse_qsl(g.query, keep_blank_values=True))
                ok = ok and all(gq.get(k) == v for k, v in parse_qsl(w.query, keep_blank_values=True))
        if not ok:
            out.append(CheckFailure("redirect", f"Location {want}", f"Location {urlunsplit(g._replace(query='', fragment=''))}"))
    lq = got.location_query
    for k, v in query.items():
        if v is None:
            if k not in lq:
                out.append(CheckFailure(f"Location query {k}", "present", "(absent)"))
        else:
            want_v = _text(render_fn(v))
            if lq.get(k) != want_v:
                out.append(CheckFailure(f"Location query {k}", want_v, _fmt(lq.get(k, _MISSING))))
    return out


def _header_problems(got: Received, headers: dict[str, Any], render_fn) -> list[CheckFailure]:
    out = []
    for name, want in headers.items():
        values = got.headers.get_list(name)
        if want is None:
            if not values:
                out.append(CheckFailure(f"header {name}", "present", "(absent)"))
        else:
            w = _text(render_fn(want))
            if w not in values:
                out.append(CheckFailure(f"header {name}", w, ", ".join(values) if values else "(absent)"))
    return out


def _field_problems(got: Received, fields: list[str]) -> list[CheckFailure]:
    out = []
    body = got.json
    for f in fields:
        try:
            lookup(body, tuple(f.split("."))) if isinstance(body, (dict, list)) else (_ for _ in ()).throw(KeyError(f))
        except KeyError:
            out.append(CheckFailure(f"field {f}", "present in the body", "(absent)"))
    return out


def _reads_json(spec: Response) -> bool:
    """The documented response is read as JSON (fields, values, or captures from the body)."""
    sources = (c.source for c in spec.capture.values())
    return bool(spec.fields or spec.body) or any(s.startswith("body.") for s in sources)


def _body_problems(got: Received, reads_json: bool) -> list[CheckFailure]:
    """A body that claims to be JSON (or must be) and is not: named, before the checks that read it."""
    if got.json_problem is not None:
        return [CheckFailure("body", "valid JSON in UTF-8", got.json_problem)]
    if reads_json and got.json is None:
        kind = got.content_type.split(";")[0].strip() or "no Content-Type"
        return [CheckFailure("body", "JSON", f"not JSON ({kind}, {len(got.body)} bytes)")]
    return []


def _error_problem(got: Received, want: str) -> CheckFailure | None:
    found = got.error_codes()
    if any(code == want for _where, code in found):
        return None
    actual = ", ".join(f"{code} ({where})" for where, code in found) or "no error code (body, Location or WWW-Authenticate)"
    return CheckFailure("error", want, actual)


# ------------------------------------------------------------------ one scenario


class ScenarioRun:
    def __init__(self, ctx: RunContext, scenario: Scenario):
        self.ctx = ctx
        self.scn = scenario
        self.client = ctx.acquire_client()
        self.exchanger = Exchanger(self.client, ctx.redactor, allow_insecure_http=ctx.allow_insecure_http)
        flow = scenario.flow
        self.result = ScenarioResult(
            id=scenario.id, flow=flow.id, flow_version=flow.version, name=scenario.name, kind=scenario.kind,
            title=scenario.title,
        )
        self._records_lock = threading.Lock()
        self._pending_internal: list[str] = []
        self._covered: list[str] = []
        # which response values are public: per transition, from its flow (the scenario's or a required one)
        self._public: dict[int, Publicity] = {}
        for f in (flow, *(rf for _n, _r, rf in scenario.requirements)):
            pub = Publicity.of_flow(f)
            self._public.update((id(t), pub) for t in f.transitions)

    # ---------------------------------------------------------------- top level
    def run(self) -> ScenarioResult:
        started = time.monotonic()
        res = self.result
        red = self.ctx.redactor
        try:
            if self.scn.kind == "unreachable":
                raise UsageProblem(f"no route from the initial state reaches transition '{self.scn.target.id}'")
            provided: dict[str, dict[str, Any]] = {}
            for name, req, rflow in self.scn.requirements:
                provided[name] = self._run_requirement(name, req, rflow, provided)
            state = FlowState(self, self.scn.flow, provided)
            self._run_route(state, self.scn.route, role="step", cover=True)
            if self.scn.failure is not None:
                self._provoke(state, self.scn.target, self.scn.failure)
            self._covered.extend(self._pending_internal)
            res.status = PASSED
        except ConformanceFailure as exc:
            res.status = FAILED
            res.failure = exc.detail
        except SkipScenario as exc:
            res.status = SKIPPED
            res.reason = red.redact(str(exc))
        except UsageProblem as exc:
            res.status = ERROR
            res.usage_error = True
            res.reason = red.redact(str(exc))
            res.failure = FailureDetail(self._current or "", "setup", res.reason)
        except InsecureTransport as exc:
            res.status = ERROR
            res.usage_error = True
            res.reason = red.redact(str(exc))
            res.failure = FailureDetail(self._current or "", "transport", res.reason)
        except Unreachable as exc:
            res.status = ERROR
            res.unreachable = True
            res.reason = red.redact(str(exc))
            res.failure = FailureDetail(self._current or "", "network", res.reason)
        except Exception as exc:  # a bug or an unexpected answer: never leak values
            res.status = ERROR
            res.reason = red.redact(f"internal error: {type(exc).__name__}: {exc}")
            res.failure = FailureDetail(self._current or "", "internal", res.reason)
        finally:
            self.ctx.release_client(self.client)
        res.covered_transitions = list(dict.fromkeys(self._covered))
        if res.status == PASSED and self.scn.failure is not None:
            res.covered_failure = f"{self.scn.target.id}/{self.scn.failure.id}"
        res.duration = time.monotonic() - started
        return res

    _current: str | None = None

    def _record(self, rec: StepRecord) -> None:
        with self._records_lock:
            self.result.steps.append(rec)

    def _run_requirement(self, name: str, req, rflow: Flow, provided: dict[str, dict[str, Any]]) -> dict[str, Any]:
        state = FlowState(self, rflow, {k: v for k, v in provided.items() if k in rflow.requires})
        self._run_route(state, rflow.happy_path(), role=f"requires {name}", cover=False)
        values: dict[str, Any] = {}
        for key, src in req.provides.items():
            parts = tuple(src.split("."))[1:]
            step = state.steps.get(parts[0])
            if step is None:
                raise UsageProblem(f"required flow '{rflow.id}' did not run step '{parts[0]}'")
            values[key] = step_value(step, parts[1:], self.client)
        return values

    # ---------------------------------------------------------------- routes
    def _run_route(self, state: FlowState, route: list[Transition], *, role: str, cover: bool) -> None:
        for group in parallel_groups(route):
            if len(group) > 1:
                self._run_group(state, group, role=role, cover=cover)
            else:
                self._run_transition(state, group[0], role=role, cover=cover)

    def _run_transition(self, state: FlowState, t: Transition, *, role: str, cover: bool) -> None:
        self._current = t.id
        if t.internal or not t.is_http:
            self._wait(state, t.wait, t.id)
            self._record(StepRecord(t.id, role, outcome="internal" if t.internal else "action",
                                    note="checked through the next step" if t.internal else "no HTTP exchange"))
            if cover:
                (self._pending_internal if t.internal else self._covered).append(t.id)
            return
        self._wait(state, t.wait, t.id)
        self._check_guard(state, t, role)
        out = self._prepare(state, t, t.request, None, {})
        self._exchange_happy(state, t, out, role=role)
        if cover:
            self._covered.extend(self._pending_internal)
            self._pending_internal.clear()
            self._covered.append(t.id)

    def _run_group(self, state: FlowState, group: list[Transition], *, role: str, cover: bool) -> None:
        waits = [self._seconds_of(state, t.wait, t.id) for t in group if t.wait is not None]
        if waits:
            self._sleep(max(waits), group[0].id)
        for t in group:
            self._check_guard(state, t, role)
        outs = [self._prepare(state, t, t.request, None, {}) for t in group]
        barrier = threading.Barrier(len(group))

        def go(t: Transition, out: Outgoing) -> None:
            try:
                barrier.wait(timeout=10)
            except threading.BrokenBarrierError:
                pass
            self._exchange_happy(state, t, out, role=role + " (parallel)")

        errors: list[BaseException] = []
        with ThreadPoolExecutor(len(group), thread_name_prefix="flowdoc-parallel") as pool:
            futures = [pool.submit(go, t, o) for t, o in zip(group, outs)]
            for fut in futures:
                exc = fut.exception()
                if exc is not None:
                    errors.append(exc)
        if errors:
            raise errors[0]
        if cover:
            self._covered.extend(self._pending_internal)
            self._pending_internal.clear()
            self._covered.extend(t.id for t in group)

    # ---------------------------------------------------------------- guards
    def _check_guard(self, state: FlowState, t: Transition, role: str) -> None:
        """A step's guard expression must hold when the scenario takes it, as the page says."""
        if t.guard is None or not t.guard.expr:
            return
        try:
            ok = Guard.parse(t.guard.expr).evaluate(state.resolver({}))
        except ExprError as exc:
            raise UsageProblem(f"guard of '{t.id}': {exc}") from None
        if not ok:
            self._record(StepRecord(t.id, role, outcome="guard", note=f"guard is false: {t.guard.expr}"))
            raise self._fail(t, role, f"the guard of '{t.id}' does not hold: {t.guard.text}",
                             [CheckFailure("guard", f"{t.guard.expr} to be true", "false")], None, None)

    # ---------------------------------------------------------------- waits
    def _seconds_of(self, state: FlowState, wait: Any, where: str) -> float:
        if wait is None:
            return 0.0
        return _seconds(state.render(wait, {}), f"wait of '{where}'")

    def _wait(self, state: FlowState, wait: Any, where: str) -> None:
        if wait is not None:
            self._sleep(self._seconds_of(state, wait, where), where)

    def _sleep(self, seconds: float, where: str) -> None:
        if seconds <= 0:
            return
        if seconds > self.ctx.max_wait:
            raise SkipScenario(
                f"'{where}' waits {seconds:g} s, more than --max-wait {self.ctx.max_wait:g} s; run it against "
                "a server with short TTLs and pass the TTL inputs (e.g. --input access_token_ttl=3)"
            )
        time.sleep(seconds)

    # ---------------------------------------------------------------- requests
    def _base_url(self, state: FlowState, actor_id: str) -> str:
        actor = state.flow.actors.get(actor_id)
        if actor is not None and actor.base_url:
            return _text(state.render(actor.base_url, {}))
        if self.ctx.base_url:
            return self.ctx.base_url
        raise UsageProblem(f"actor '{actor_id}' of flow '{state.flow.id}' has no base_url: pass --base-url")

    def _prepare(self, state: FlowState, t: Transition, req: Request, patch: RequestPatch | None,
                 overrides: dict[str, Any], *, timeout: float | None = None) -> Outgoing:
        self._current = t.id
        r = lambda v: state.render(v, overrides)  # noqa: E731
        p = patch or _NO_PATCH
        omit = {o.lower() for o in p.omit}
        method = p.method or req.method
        documented_path = p.path or req.path
        form_fields: dict[str, Any] = {}
        url_src = p.url or req.url
        check_path = False
        if url_src:
            target = _text(r(url_src))
            url = urljoin(self._base_url(state, t.receiver).rstrip("/") + "/", target) if not urlsplit(target).scheme \
                else target
            check_path = True
        elif req.submit_form:
            form = r(req.submit_form)
            if not isinstance(form, dict) or "action" not in form:
                raise UsageProblem(f"'{t.id}': submit_form must refer to a captured form (${{steps.ID.form}})")
            url = form["action"]
            form_method = str(form.get("method") or "GET").upper()
            if form_method != method:
                raise ConformanceFailure(t.id, "step", "the page's form method differs from the documented one",
                                         [CheckFailure("form method", method, form_method)])
            form_fields = dict(form.get("fields") or {})
            check_path = True
        else:
            base = self._base_url(state, t.receiver)
            params = {k: _text(r(v)) for k, v in req.params.items()}
            path = _SEGMENT.sub(lambda m: params.get(m.group(1), m.group(0)), documented_path)
            url = base.rstrip("/") + path
        if check_path and not path_pattern(documented_path).match(urlsplit(url).path or "/"):
            raise ConformanceFailure(
                t.id, "step", "the request URL does not match the documented path",
                [CheckFailure("path", documented_path, urlsplit(redact_url(url, self.ctx.redactor)).path)],
            )
        # query
        query = {**req.query, **p.query}
        extra = [(k, _text(r(v))) for k, v in query.items() if k.lower() not in omit and v is not None]
        if extra or omit:
            parts = urlsplit(url)
            kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                    if k.lower() not in omit and k not in dict(extra)]
            url = urlunsplit(parts._replace(query=urlencode(kept + extra)))
        # headers
        headers: list[tuple[str, str]] = []
        for k, v in {**req.headers, **p.headers}.items():
            if k.lower() in omit or v is None:
                continue
            headers.append((k, _text(r(v))))
        # body
        form_body: dict[str, str] | None = None
        json_body: Any = None
        if req.form is not None or req.submit_form or p.form:
            merged = {**form_fields, **(req.form or {}), **p.form}
            form_body = {k: _text(r(v)) for k, v in merged.items() if k.lower() not in omit and v is not None}
        if p.json_body is not None or req.json_body is not None:
            base_json = r(req.json_body) if req.json_body is not None else None
            patch_json = r(p.json_body) if p.json_body is not None else None
            if isinstance(base_json, dict) and isinstance(patch_json, dict):
                json_body = {**base_json, **patch_json}
            else:
                json_body = patch_json if patch_json is not None else base_json
            if isinstance(json_body, dict):
                json_body = {k: v for k, v in json_body.items() if k.lower() not in omit}
        # client authentication
        auth = p.auth or req.auth
        if auth in CLIENT_SECRET_AUTH:
            cid = _text(r(p.client_id if p.client_id is not None else req.client_id))
            csecret = _text(r(p.client_secret if p.client_secret is not None else req.client_secret))
            if auth == "client_secret_basic":
                if "authorization" not in omit:
                    cred = basic_credentials(cid, csecret)
                    sec_ph = self.ctx.redactor.placeholder(csecret)
                    label = f"basic {cid}:{sec_ph.strip('«»') if sec_ph else 'secret'}"
                    self.ctx.redactor.add(cred, label, numbered=False, declared=True)
                    headers.append(("Authorization", f"Basic {cred}"))
            else:
                if json_body is not None:
                    raise UsageProblem(f"'{t.id}': client_secret_post sends the credentials in a form body, not JSON")
                form_body = dict(form_body or {})
                if "client_id" not in omit:
                    form_body["client_id"] = cid
                if "client_secret" not in omit:
                    form_body["client_secret"] = csecret
        elif auth == "bearer" and "authorization" not in omit:
            token = r(p.token if p.token is not None else req.token)
            if token is None or token == "":
                raise UsageProblem(f"'{t.id}': the bearer token has no value")
            headers.append(("Authorization", f"Bearer {_text(token)}"))
        retry = req.retry
        return Outgoing(
            method=method,
            url=url,
            headers=headers,
            form=form_body,
            json_body=json_body,
            no_cookies="cookie" in omit,
            follow_redirects=req.follow_redirects,
            timeout=float(timeout if timeout is not None else (req.timeout or self.ctx.timeout)),
            retry_attempts=retry.attempts if retry else 1,
            retry_backoff=float(retry.backoff) if retry else 1.0,
        )

    def _send(self, t: Transition, out: Outgoing, role: str) -> tuple[httpx.Request, Received]:
        started = time.monotonic()
        red = self.ctx.redactor
        try:
            req, got = self.exchanger.send(out)
        except TimedOut as exc:
            self._record(StepRecord(t.id, role, out.method, redact_url(out.url, red), None, "timeout",
                                    time.monotonic() - started, False, str(exc)))
            raise
        except Unreachable as exc:
            self._record(StepRecord(t.id, role, out.method, redact_url(out.url, red), None, "network-error",
                                    time.monotonic() - started, False, str(exc)))
            raise
        except BadResponse as exc:  # a named problem with the answer: a conformance failure
            if exc.got is not None and exc.request is not None:
                self._register(t, exc.request, exc.got)
            self._record(StepRecord(t.id, role, out.method, redact_url(out.url, red),
                                    exc.got.status if exc.got else None, "response", time.monotonic() - started,
                                    False, red.redact(str(exc))))
            raise self._fail(t, role, str(exc), [], exc.request, exc.got) from None
        self._register(t, req, got)
        self._record(StepRecord(t.id, role, out.method, redact_url(out.url, red), got.status, "response",
                                got.elapsed, True))
        return req, got

    def _register(self, t: Transition, req: httpx.Request, got: Received) -> None:
        """The secrets of a response, in whatever shape, are known before anything about it is printed."""
        red = self.ctx.redactor
        credentialed = note_request(red, str(req.url), req.headers.multi_items(), req.content)
        register_response(red, got, credentialed=credentialed, public=self._public.get(id(t), Publicity()))

    def _fail(self, t: Transition, role: str, message: str, checks: list[CheckFailure],
              req: httpx.Request | None, got: Received | None) -> ConformanceFailure:
        red = self.ctx.redactor
        with self._records_lock:
            for rec in reversed(self.result.steps):
                if rec.transition == t.id:
                    rec.ok = False
                    break
        for c in checks:
            c.expected, c.actual = red.redact(c.expected), red.redact(c.actual)
        return ConformanceFailure(
            t.id, role, red.redact(message), checks,
            request_excerpt(req, red) if req is not None else None,
            response_excerpt(got, red) if got is not None else None,
        )

    # ---------------------------------------------------------------- happy exchange
    def _exchange_happy(self, state: FlowState, t: Transition, out: Outgoing, *, role: str) -> Received:
        try:
            req, got = self._send(t, out, role)
        except TimedOut as exc:
            raise self._fail(t, role, str(exc), [CheckFailure("response", f"within {out.timeout:g} s", "timeout")],
                             None, None) from None
        spec = t.response
        assert spec is not None
        r = lambda v: state.render(v, {})  # noqa: E731
        self._register_captures(got, spec)
        checks = self._check_response(state, t, got, spec, r)
        if checks:
            raise self._fail(t, role, "the response differs from the documentation", checks, req, got)
        captures: dict[str, Any] = {}
        missing: list[CheckFailure] = []
        for name, cap in spec.capture.items():
            value = response_part(got, tuple(cap.source.split(".")), self.client)
            if value is _MISSING:
                missing.append(CheckFailure(f"capture {name}", f"{cap.source} in the response", "(absent)"))
                continue
            if cap.secret and isinstance(value, (str, int)) and not isinstance(value, bool):
                self.ctx.redactor.add(value, name)
            captures[name] = value
        if missing:
            raise self._fail(t, role, "a value to capture is missing", missing, req, got)
        state.steps[t.id] = StepData(got, captures)
        return got

    def _register_captures(self, got: Received, spec: Response) -> None:
        """What the flow captures as secret is redacted even when the step fails before capturing it."""
        for name, cap in spec.capture.items():
            value = response_part(got, tuple(cap.source.split(".")), self.client) if cap.secret else _MISSING
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                self.ctx.redactor.add(value, name)

    def _check_response(self, state: FlowState, t: Transition, got: Received, spec: Response, r) -> list[CheckFailure]:
        if got.status not in spec.statuses:
            out = [CheckFailure("status", " or ".join(map(str, spec.statuses)), str(got.status))]
            codes = got.error_codes()
            if codes:
                out.append(CheckFailure("error", "(none documented)" if not spec.error else spec.error,
                                        ", ".join(f"{c} ({w})" for w, c in codes)))
            return out
        out: list[CheckFailure] = _body_problems(got, _reads_json(spec))
        if spec.content_type:
            media = got.content_type.split(";")[0].strip().lower()
            if media != spec.content_type.split(";")[0].strip().lower():
                out.append(CheckFailure("Content-Type", spec.content_type, got.content_type or "(absent)"))
        out += _field_problems(got, spec.fields)
        body = got.json
        for k, want in spec.body.items():
            try:
                value = lookup(body, tuple(k.split("."))) if isinstance(body, dict) else _MISSING
            except KeyError:
                value = _MISSING
            w = r(want)
            if value is _MISSING or value != w:
                out.append(CheckFailure(f"body {k}", _fmt(w), _fmt(value)))
        out += _header_problems(got, spec.headers, r)
        if spec.error:
            prob = _error_problem(got, spec.error)
            if prob:
                out.append(prob)
        if spec.redirect is not None:
            out += _redirect_problems(got, spec.redirect.to, spec.redirect.query, r)
        if spec.form and (got.page is None or not got.page.forms):
            out.append(CheckFailure("form", "an HTML page with a form", "no form in the body"))
        for jc in spec.jwt:
            out += self._check_jwt(state, t, got, jc, r)
        return out

    def _check_jwt(self, state: FlowState, t: Transition, got: Received, jc, r) -> list[CheckFailure]:
        where = jc.token
        if "${" in where:
            token = r(where)
        else:
            token = response_part(got, tuple(where.split(".")), self.client)
            if token is _MISSING:
                return [CheckFailure(f"JWT {where}", "present", "(absent)")]
        if isinstance(token, str):
            self.ctx.redactor.add(token, where.split(".")[-1].strip("${}") or "jwt")
        iss = _text(r(jc.iss)) if jc.iss is not None else None
        try:
            if jc.jwks:
                jwks_url = _text(r(jc.jwks))
            else:
                issuer = iss or self._base_url(state, t.receiver)
                jwks_url = self.ctx.jwks.jwks_uri(issuer)
        except JwksError as exc:
            return [CheckFailure(f"JWT {where}", "the issuer's JWKS", self.ctx.redactor.redact(str(exc)))]
        claims, problems = verify_jwt(
            token,
            jwks_url=jwks_url,
            cache=self.ctx.jwks,
            iss=iss,
            aud=_text(r(jc.aud)) if jc.aud is not None else None,
            nonce=_text(r(jc.nonce)) if jc.nonce is not None else None,
            check_exp=jc.exp,
            claims={k: r(v) for k, v in jc.claims.items()},
            required=list(jc.required),
        )
        return [CheckFailure(f"JWT {where}: {p.what}", p.expected, p.actual) for p in problems]

    # ---------------------------------------------------------------- failures
    def _provoke(self, state: FlowState, t: Transition, f: Failure) -> None:
        pv = f.provoke
        tm = state.flow.transition_map
        for b in pv.before:
            self._run_transition(state, tm[b], role="before", cover=True)
        self._current = t.id
        if pv.wait is not None:
            self._sleep(self._seconds_of(state, pv.wait, f"{t.id}/{f.id}"), f"{t.id}/{f.id}")
        overrides = {k: state.render(v, {}) for k, v in pv.inputs.items()}
        timeout = pv.timeout
        if pv.replay:
            out = self._prepare(state, t, t.request, None, {}, timeout=timeout)
            self._exchange_happy(state, t, out, role="first send (to replay)")
            self._exchange_failure(state, t, f, out, overrides, role="replay")
        else:
            out = self._prepare(state, t, t.request, pv.request, overrides, timeout=timeout)
            for i in range(pv.attempts - 1):
                try:
                    self._send(t, out, f"attempt {i + 1}/{pv.attempts}")
                except TimedOut:
                    pass
            role = "provoke" if pv.attempts == 1 else f"attempt {pv.attempts}/{pv.attempts}"
            self._exchange_failure(state, t, f, out, overrides, role=role)
        nxt = self.scn.follow_up
        if nxt is not None:
            try:
                out = self._prepare(state, nxt, nxt.request, None, {})
            except UsageProblem as exc:
                self._record(StepRecord(nxt.id, "then", outcome="skipped", ok=True,
                                        note=self.ctx.redactor.redact(f"state check skipped: {exc}")))
                return
            self._wait(state, nxt.wait, nxt.id)
            self._exchange_happy(state, nxt, out, role=f"then (in state '{f.to or t.from_}')")
            self._covered.append(nxt.id)

    def _exchange_failure(self, state: FlowState, t: Transition, f: Failure, out: Outgoing,
                          overrides: dict[str, Any], *, role: str) -> None:
        spec: FailureResponse = f.response
        r = lambda v: state.render(v, overrides)  # noqa: E731
        try:
            req, got = self._send(t, out, role)
        except TimedOut as exc:
            if spec.outcome == "timeout":
                return
            raise self._fail(t, role, str(exc), [CheckFailure("response", self._expected_text(spec), "timeout")],
                             None, None) from None
        except Unreachable:
            if spec.outcome == "network-error":
                return
            raise
        if spec.outcome != "response":
            raise self._fail(t, role, f"expected {spec.outcome}, the server answered",
                             [CheckFailure("outcome", spec.outcome, f"HTTP {got.status}")], req, got)
        checks: list[CheckFailure] = []
        if got.status != spec.status:
            checks.append(CheckFailure("status", str(spec.status), str(got.status)))
        if spec.error:
            prob = _error_problem(got, spec.error)
            if prob:
                checks.append(prob)
        if got.status == spec.status:
            checks[:0] = _body_problems(got, bool(spec.fields))
            checks += _field_problems(got, spec.fields)
            checks += _header_problems(got, spec.headers, r)
            if spec.redirect is not None:
                checks += _redirect_problems(got, spec.redirect.to, spec.redirect.query, r)
        if checks:
            raise self._fail(t, role, f"failure '{f.id}' was not answered as documented", checks, req, got)

    @staticmethod
    def _expected_text(spec: FailureResponse) -> str:
        if spec.outcome != "response":
            return spec.outcome
        return f"HTTP {spec.status}" + (f" {spec.error}" if spec.error else "")
