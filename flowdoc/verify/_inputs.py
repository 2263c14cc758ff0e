"""Input values: ``--input`` > environment variable > ``--env-file`` > the flow's default."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..model.flow import Flow

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_assignment(line: str) -> tuple[str, str] | None:
    """``[export] NAME = value`` → (NAME, value stripped), or None. String operations and one
    anchored name match: linear in the line, whatever spaces it holds."""
    text = line.strip()
    starts = [0]
    if text.startswith("export") and text[6:7].isspace():
        starts.insert(0, len(text) - len(text[6:].lstrip()))
    for start in starts:
        m = _ENV_NAME.match(text, start)
        if m is None:
            continue
        rest = text[m.end():].lstrip()
        if rest.startswith("="):
            return m.group(0), rest[1:].strip()
    return None


class InputError(ValueError):
    """A usage problem with inputs (bad --input, unreadable env file, missing value)."""


def parse_input_args(items: Iterable[str]) -> dict[str, str]:
    """``NAME=VALUE`` strings → dict; the value may itself contain ``=``."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"(?:[A-Za-z_][A-Za-z0-9_-]*\.)?[A-Za-z_][A-Za-z0-9_-]*", name):
            shown = f"name '{name[:40]}'" if sep and name else "no NAME="  # never echo a value
            raise InputError(f"--input expects NAME=VALUE or FLOW.NAME=VALUE; got {shown}")
        out[name] = value
    return out


def parse_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """A dotenv-style file: ``NAME=value`` lines, ``#`` comments, optional quotes and ``export``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read env file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    out: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        found = _env_assignment(line)
        if found is None:
            # never echo the line: it may hold a secret
            raise InputError(f"{path}:{lineno}: expected NAME=VALUE")
        name, raw = found
        value = raw
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
            if raw[0] == '"':
                value = value.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        out[name] = value
    return out


_NOT_VAR = re.compile(r"[^A-Za-z0-9]")


def scoped_var(flow_id: str, name: str) -> str:
    """The environment variable of one flow's input: ``FLOWDOC_<FLOW>__<NAME>``."""
    return f"FLOWDOC_{_NOT_VAR.sub('_', flow_id).upper()}__{_NOT_VAR.sub('_', name).upper()}"


@dataclass
class InputSources:
    """Where input values come from. A value for one flow only is written ``FLOW.NAME`` with
    ``--input`` and ``FLOWDOC_<FLOW>__<NAME>`` in the environment or the env file; it wins over
    the plain name from the same source."""

    cli: dict[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    env_file: dict[str, str] = field(default_factory=dict)

    _cache: dict[tuple[int, str], tuple[Any, str] | None] = field(default_factory=dict, repr=False, compare=False)

    def lookup(self, flow: Flow, name: str) -> tuple[Any, str] | None:
        """(value, where it came from), or None when the input has no value."""
        key = (id(flow), name)
        try:
            return self._cache[key]
        except KeyError:
            found = self._cache[key] = self._lookup(flow, name)
            return found

    def _lookup(self, flow: Flow, name: str) -> tuple[Any, str] | None:
        inp = flow.inputs.get(name)
        scoped = f"{flow.id}.{name}"
        if scoped in self.cli:
            return self.cli[scoped], "--input"
        if name in self.cli:
            return self.cli[name], "--input"
        if inp is None:
            return None
        svar, var = scoped_var(flow.id, name), inp.env_var
        for source, where in ((self.env, "environment"), (self.env_file, "env file")):
            if svar in source:
                return source[svar], f"${svar} ({where})"
            if var in source:
                return source[var], f"${var} ({where})"
        if inp.default is not None:
            return inp.default, "default"
        return None

    def label(self, flow: Flow, name: str) -> str:
        """The redaction label of an input's value: ``FLOW.NAME`` when the value is flow-scoped."""
        found = self.lookup(flow, name)
        scoped = found is not None and (found[1] == "--input" and f"{flow.id}.{name}" in self.cli
                                        or found[1].startswith("$" + scoped_var(flow.id, name)))
        return f"{flow.id}.{name}" if scoped else name

    def warnings(self, flows: Iterable[Flow]) -> list[str]:
        flows = list(flows)
        out: list[str] = []
        by_id = {f.id: f for f in flows}
        for key in self.cli:
            fid, dot, name = key.rpartition(".")
            scope = [by_id[fid]] if dot and fid in by_id else ([] if dot else flows)
            owners = [f for f in scope if name in f.inputs]
            if not owners:
                out.append(f"--input '{key}' is not an input of any selected flow")
                continue
            secret = next((f for f in owners if f.inputs[name].secret), None)
            if secret is not None:
                var = scoped_var(secret.id, name) if dot else secret.inputs[name].env_var
                out.append(
                    f"secret input '{key}' was given with --input: it may stay in your shell history; "
                    f"prefer ${var} or --env-file"
                )
        return out


def missing_message(flow: Flow, names: Iterable[str]) -> str:
    parts = []
    for n in sorted(set(names)):
        inp = flow.inputs.get(n)
        var = inp.env_var if inp else "FLOWDOC_" + n.upper()
        parts.append(f"'{n}' (--input {n}=..., ${var} or --env-file)")
    return f"flow '{flow.id}' needs input{'s' if len(parts) > 1 else ''} " + ", ".join(parts)
