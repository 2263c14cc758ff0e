"""Values of one flow inside a scenario, and how ``${...}`` resolves against them.

``${inputs.NAME}`` (overridable per exchange), ``${steps.ID.NAME}`` (captures and response parts of
steps that ran), ``${NAME}`` / ``${NAME.part}`` of the flow's generators (PKCE pair, random, uuid,
TOTP), ``${REQ.KEY}`` provided by a required flow. Secret values are registered with the redactor
the moment they are made or read.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets as _secrets
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import httpx
import pyotp

from ..model.expr import ExprError, Ref, iter_refs, render
from ..model.flow import Flow, GenerateKind, Generator, parse_duration
from ._extract import StepData, step_value
from ._inputs import InputSources
from ._memo import Memo
from ._outcomes import MissingValue, UsageProblem
from ._redact import Redactor

Render = Callable[[Any], Any]

# ------------------------------------------------------------------ generators

Make = Callable[[Generator, str, Redactor, Render], Any]


@dataclass(frozen=True)
class GeneratorKind:
    make: Make
    fresh: bool  # a new value at each use (TOTP codes); else one value per flow in a scenario


GENERATORS: dict[GenerateKind, GeneratorKind] = {}


def generator(kind: GenerateKind, *, fresh: bool = False) -> Callable[[Make], Make]:
    def register(fn: Make) -> Make:
        GENERATORS[kind] = GeneratorKind(fn, fresh)
        return fn

    return register


@generator(GenerateKind.pkce)
def _pkce(gen: Generator, name: str, red: Redactor, render_fn: Render) -> dict[str, str]:
    verifier = _secrets.token_urlsafe(min(max(gen.bytes, 32), 96))
    if gen.method == "S256":
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        challenge = digest.rstrip(b"=").decode("ascii")
    else:
        challenge = verifier
    red.add(verifier, f"{name}.verifier", declared=True)
    return {"verifier": verifier, "challenge": challenge, "method": gen.method}


@generator(GenerateKind.uuid)
def _uuid(gen: Generator, name: str, red: Redactor, render_fn: Render) -> str:
    return str(uuid.uuid4())


@generator(GenerateKind.random)
def _random(gen: Generator, name: str, red: Redactor, render_fn: Render) -> str:
    return _secrets.token_urlsafe(gen.bytes)


@generator(GenerateKind.totp, fresh=True)
def _totp(gen: Generator, name: str, red: Redactor, render_fn: Render) -> str:
    secret = render_fn(gen.secret)
    try:
        code = pyotp.TOTP(str(secret), digits=gen.digits, interval=gen.period).now()
    except Exception:
        raise UsageProblem(f"generate.{name}: the TOTP secret is not valid base32") from None
    red.add(code, name, declared=True)
    return code


# ------------------------------------------------------------------ one flow's values


class FlowState:
    """Values of one flow inside a scenario: inputs, generated values, captures, requirements."""

    def __init__(self, flow: Flow, requirement_values: dict[str, dict[str, Any]], *, inputs: InputSources,
                 redactor: Redactor, jar: httpx.Cookies | None):
        self.flow = flow
        self.steps: dict[str, StepData] = {}
        self.generated: dict[str, Any] = {}
        self.requirement_values = requirement_values
        self.sources = inputs
        self.redactor = redactor
        self.jar = jar  # the scenario's cookies, for ${steps.ID.cookies.NAME}
        self._inputs: dict[str, Any] = {}
        self._lock = threading.Lock()

    def input(self, name: str) -> Any:
        if name in self._inputs:
            return self._inputs[name]
        found = self.sources.lookup(self.flow, name)
        inp = self.flow.inputs.get(name)
        if found is None:
            var = inp.env_var if inp else "FLOWDOC_" + name.upper()
            raise UsageProblem(f"input '{name}' of flow '{self.flow.id}' has no value: pass --input {name}=..., "
                               f"set ${var}, or add it to --env-file")
        value = found[0]
        if inp is not None and inp.secret:
            self.redactor.add(value, self.sources.label(self.flow, name), numbered=False, declared=True)
        self._inputs[name] = value
        return value

    def generate(self, name: str, part: tuple[str, ...]) -> Any:
        gen = self.flow.generate[name]
        kind = GENERATORS[gen.kind]
        if kind.fresh:
            return kind.make(gen, name, self.redactor, lambda v: self.render(v, {}))
        with self._lock:
            if name not in self.generated:
                self.generated[name] = kind.make(gen, name, self.redactor, lambda v: self.render(v, {}))
            value = self.generated[name]
        if part:
            return value[part[0]] if isinstance(value, dict) else _no_value(f"{name}.{part[0]}")
        return value

    def resolver(self, overrides: dict[str, Any]) -> Callable[[tuple[str, ...]], Any]:
        def resolve(path: tuple[str, ...]) -> Any:
            root = path[0]
            if root == "inputs" and len(path) == 2:
                return overrides[path[1]] if path[1] in overrides else self.input(path[1])
            if root == "steps" and len(path) >= 3:
                return self._step_value(path)
            if root in self.flow.generate:
                return self.generate(root, path[1:])
            vals = self.requirement_values.get(root)
            if vals is not None and len(path) == 2 and path[1] in vals:
                return vals[path[1]]
            return _no_value(".".join(path))

        return resolve

    def _step_value(self, path: tuple[str, ...]) -> Any:
        step = self.steps.get(path[1])
        if step is None:
            raise MissingValue(f"'${{{'.'.join(path)}}}': step '{path[1]}' has not run in this scenario")
        return step_value(step, path[2:], self.jar)

    def render(self, value: Any, overrides: dict[str, Any]) -> Any:
        if isinstance(value, str) and "$" not in value:  # most of a request: nothing to resolve
            return value
        try:
            return render(value, self.resolver(overrides), _refs)
        except ExprError as exc:
            raise UsageProblem(str(exc)) from None

    def renderer(self, overrides: dict[str, Any]) -> Render:
        """``render`` with these input overrides, as a one-argument function."""
        return lambda value: self.render(value, overrides)


_TEMPLATES: Memo[str, tuple[Ref, ...]] = Memo(4096)  # a flow's strings, parsed once: every exchange renders them again


def _refs(value: str) -> tuple[Ref, ...]:
    """``iter_refs(value)`` (raises ExprError for a bad reference), from a bounded memo."""
    refs = _TEMPLATES.get(value)
    if refs is None:
        refs = tuple(iter_refs(value))
        if len(value) <= 2048:
            _TEMPLATES.keep(value, refs)
    return refs


def _no_value(text: str) -> Any:
    raise UsageProblem(f"'${{{text}}}' has no value in this scenario")


# ------------------------------------------------------------------ durations

_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def seconds(value: Any, what: str) -> float:
    """A rendered wait (number, "90", "90s", "15m" ...) in seconds."""
    if isinstance(value, bool):
        raise UsageProblem(f"{what}: {value!r} is not a duration")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if _NUMBER.fullmatch(text):
        return float(text)
    try:
        return float(parse_duration(text))
    except ValueError:
        raise UsageProblem(f"{what}: '{text}' is not a duration (seconds, or 90s, 15m ...)") from None
