"""References in a flow: one walker over models, mappings, lists and strings.

Every stage that looks for ``${...}`` references (check, verify, diff, render) walks with
:func:`walk_strings` / :func:`walk_refs` and asks :func:`inputs_used` which inputs a flow
(or one run of it) uses. The references themselves are parsed by :func:`~flowdoc.model.expr.iter_refs`,
which honours the ``$${`` escape.

The walk is iterative (a deeply nested JSON body cannot drive it past Python's recursion limit)
and visits, on a model, only the fields the author wrote, by their YAML key; on a request that
sends client credentials (:attr:`Request.sends_client_credentials`) it also visits the defaults
of ``client_id`` and ``client_secret`` the author did not write (``${inputs.client_id}`` ...),
at the path of ``auth``, which implies them.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from pydantic import BaseModel

from .expr import ExprError, Guard, Ref, iter_refs
from .flow import Failure, Flow, Request, Transition

__all__ = ["walk_strings", "walk_refs", "inputs_used", "input_names"]

Path = tuple[Any, ...]


def _children(obj: Any, path: Path) -> list[tuple[Path, Any]]:
    if isinstance(obj, BaseModel):
        fields_set = obj.model_fields_set
        out = [(path + (fi.alias or name,), getattr(obj, name))
               for name, fi in type(obj).model_fields.items() if name in fields_set]
        if isinstance(obj, Request) and obj.sends_client_credentials:
            out += [(path + ("auth",), getattr(obj, name))
                    for name in ("client_id", "client_secret") if name not in fields_set]
        return out
    if isinstance(obj, dict):
        return [(path + (k,), v) for k, v in obj.items()]
    if isinstance(obj, (list, tuple)):
        return [(path + (i,), v) for i, v in enumerate(obj)]
    return []


def walk_strings(obj: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Every string under ``obj`` (a model, dict, list or string), with its YAML path, in document order."""
    stack: list[tuple[Path, Any]] = [(path, obj)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            yield where, value
        else:
            stack.extend(reversed(_children(value, where)))


OnError = Callable[[Path, ExprError], None]


def walk_refs(obj: Any, path: Path = (), on_error: OnError | None = None,
              skip: Callable[[Path], bool] | None = None) -> Iterator[tuple[Path, Ref]]:
    """Every ``${...}`` reference under ``obj``, with the YAML path of its string.

    A string that does not parse is passed to ``on_error`` (skipped when None); ``skip(path)`` True
    leaves a string out."""
    for where, text in walk_strings(obj, path):
        if "${" not in text or (skip is not None and skip(where)):
            continue
        try:
            refs = list(iter_refs(text))
        except ExprError as exc:
            if on_error is not None:
                on_error(where, exc)
            continue
        for ref in refs:
            yield where, ref


def input_names(paths: Iterable[tuple[str, ...]]) -> set[str]:
    """The NAME of each ``inputs.NAME`` among reference paths."""
    return {p[1] for p in paths if len(p) == 2 and p[0] == "inputs"}


def inputs_used(flow: Flow, transitions: Iterable[Transition] | None = None,
                failure: Failure | None = None) -> set[str]:
    """The declared inputs the flow's references name.

    Without ``transitions``: every input a client meets, i.e. referenced anywhere in the flow (guard
    expressions too) except in the recipes that provoke failures. With ``transitions`` (one run): the
    requests, responses and waits of those of them a client sends (HTTP, not internal), the
    ``failure`` provoked, the ``base_url`` of their receivers and the secrets of the generators.
    """
    if transitions is None:
        names = input_names(r.path for _, r in walk_refs(flow, skip=lambda where: "provoke" in where))
        for t in flow.transitions:
            if t.guard is not None and t.guard.expr:
                try:
                    names |= input_names(Guard.parse(t.guard.expr).refs())
                except ExprError:
                    pass
        return names & set(flow.inputs)
    parts: list[Any] = []
    receivers: set[str] = set()
    for t in transitions:
        if t.internal or not t.is_http:
            continue
        receivers.add(t.receiver)
        parts += [t.request, t.response, t.wait]
    if failure is not None:
        parts += [failure.provoke, failure.response]
    parts += [flow.actors[a].base_url for a in sorted(receivers) if a in flow.actors]
    parts += [g.secret for g in flow.generate.values()]
    return input_names(r.path for _, r in walk_refs(parts)) & set(flow.inputs)
