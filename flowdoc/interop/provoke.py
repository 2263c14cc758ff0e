"""How a failure workflow's step differs from the happy step it repeats → a flow's ``provoke``.

A value that the happy step takes from an input and the failure step writes literally becomes an
input override (``provoke.inputs``); other changed values become request changes, values the
failure step leaves out become ``omit``; the same request sent a second time is a ``replay``.
"""

from __future__ import annotations

import re
from typing import Any

from ._import_steps import FORM, ImportCtx

_INPUT = re.compile(r"^\$inputs\.([A-Za-z_][A-Za-z0-9_-]*)$")


def _params(step: dict) -> dict[tuple[str, str], tuple[str, Any]]:
    out = {}
    for p in step.get("parameters") or []:
        if isinstance(p, dict) and "name" in p and "in" in p:
            out[(str(p["in"]), str(p["name"]).lower())] = (str(p["name"]), p.get("value"))
    return out


def _form(step: dict) -> dict:
    body = step.get("requestBody")
    if isinstance(body, dict) and isinstance(body.get("payload"), dict):
        if str(body.get("contentType") or FORM).split(";")[0].strip().lower() == FORM:
            return body["payload"]
    return {}


def _basic(step: dict) -> dict | None:
    for sec in step.get("x-security") or []:
        if isinstance(sec, dict) and isinstance(sec.get("scheme"), dict) and \
                str(sec["scheme"].get("scheme", "")).lower() == "basic" and isinstance(sec.get("values"), dict):
            return sec["values"]
    return None


class _Diff:
    def __init__(self, ctx: ImportCtx, where: str):
        self.ctx, self.where = ctx, where
        self.inputs: dict[str, Any] = {}
        self.request: dict[str, Any] = {}
        self.omit: list[str] = []

    def changed(self, happy: Any, failed: Any, patch_key: str, name: str) -> None:
        m = _INPUT.match(happy) if isinstance(happy, str) else None
        if m and not (isinstance(failed, str) and failed.startswith("$")):
            self.inputs[m.group(1)] = self.ctx.value(failed, self.where)
        elif patch_key in ("client_id", "client_secret", "token"):
            self.request[patch_key] = self.ctx.value(failed, self.where)
        else:
            self.request.setdefault(patch_key, {})[name] = self.ctx.value(failed, self.where)

    def result(self, replay: bool) -> dict:
        out: dict[str, Any] = {}
        if self.inputs:
            out["inputs"] = self.inputs
        req = dict(self.request)
        if self.omit:
            req["omit"] = self.omit
        if req:
            out["request"] = req
        if not out and replay:
            out["replay"] = True
        return out


def provoke_of(happy: dict, failed: dict, ctx: ImportCtx, where: str, *, replay: bool) -> dict:
    d = _Diff(ctx, where)
    _diff_params(d, _params(happy), _params(failed))
    _diff_form(d, _form(happy), _form(failed))
    hb, fb = _basic(happy), _basic(failed)
    if hb is not None and fb is None:
        d.omit.append("Authorization")
    elif hb is not None and fb is not None:
        for field, key in (("username", "client_id"), ("password", "client_secret")):
            if hb.get(field) != fb.get(field):
                d.changed(hb.get(field), fb.get(field), key, key)
    return d.result(replay)


def _diff_params(d: _Diff, hp: dict, fp: dict) -> None:
    for key, (name, value) in hp.items():
        if key not in fp:
            d.omit.append(name)
        elif fp[key][1] != value:
            if key == ("header", "authorization") and str(fp[key][1]).lower().startswith("bearer "):
                d.changed(str(value)[7:], str(fp[key][1])[7:], "token", name)
            else:
                d.changed(value, fp[key][1], "headers" if key[0] == "header" else "query", name)
    for key, (name, value) in fp.items():
        if key not in hp:
            d.request.setdefault("headers" if key[0] == "header" else "query", {})[name] = d.ctx.value(value, d.where)


def _diff_form(d: _Diff, hf: dict, ff: dict) -> None:
    for k, v in hf.items():
        if k not in ff:
            d.omit.append(k)
        elif ff[k] != v:
            d.changed(v, ff[k], "form", k)
    for k, v in ff.items():
        if k not in hf:
            d.request.setdefault("form", {})[k] = d.ctx.value(v, d.where)
