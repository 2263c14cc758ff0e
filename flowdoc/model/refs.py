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


#: each model class's fields: attribute name -> (its place in the declaration, its YAML key)
_FIELDS: dict[type[BaseModel], dict[str, tuple[int, str]]] = {}
#: what the walk does with a value of each type met (a type is looked at once: a model class's
#: isinstance goes through its ABC metaclass, the slowest step of a walk otherwise)
_TEXT, _MODEL, _MAPPING, _LIST, _LEAF = 1, 2, 3, 4, 5
_KINDS: dict[type, int] = {}


def _kind(cls: type) -> int:
    kind = _KINDS.get(cls)
    if kind is None:
        kind = _KINDS[cls] = (_TEXT if issubclass(cls, str) else _MODEL if issubclass(cls, BaseModel)
                              else _MAPPING if issubclass(cls, dict) else _LIST if issubclass(cls, (list, tuple))
                              else _LEAF)
    return kind


def _fields(cls: type[BaseModel]) -> dict[str, tuple[int, str]]:
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = {name: (i, fi.alias or name) for i, (name, fi) in enumerate(cls.model_fields.items())}
    return fields


def _children(obj: Any, kind: int) -> list[tuple[Any, Any]]:
    """(the key or index under which each child stands, the child) of a model, mapping or list."""
    if kind == _MODEL:
        fields_set, fields, values = obj.model_fields_set, _fields(type(obj)), obj.__dict__
        out = [(fields[name][1], values[name]) for name in sorted(fields_set, key=fields.__getitem__)]
        if isinstance(obj, Request) and obj.sends_client_credentials:
            out += [("auth", getattr(obj, name)) for name in ("client_id", "client_secret") if name not in fields_set]
        return out
    if kind == _MAPPING:
        return list(obj.items())
    return list(enumerate(obj))


def walk_strings(obj: Any, path: Path = (), needle: str | None = None) -> Iterator[tuple[Path, str]]:
    """Every string under ``obj`` (a model, dict, list or string), with its YAML path, in document order;
    with ``needle``, only the strings that hold it.

    Iterative: a stack of the open containers' children, each with the path of its container; the
    path of a value is made for the strings yielded and the containers only."""
    kind = _kind(type(obj))
    if kind == _TEXT:
        if needle is None or needle in obj:
            yield path, obj
        return
    if kind == _LEAF:
        return
    stack: list[tuple[Path, Iterator[tuple[Any, Any]]]] = [(path, iter(_children(obj, kind)))]
    kinds = _KINDS
    while stack:
        where, children = stack[-1]
        for key, value in children:
            kind = kinds.get(type(value)) or _kind(type(value))
            if kind == _TEXT:
                if needle is None or needle in value:
                    yield where + (key,), value
            elif kind != _LEAF:
                stack.append((where + (key,), iter(_children(value, kind))))
                break
        else:
            stack.pop()


OnError = Callable[[Path, ExprError], None]


def walk_refs(obj: Any, path: Path = (), on_error: OnError | None = None,
              skip: Callable[[Path], bool] | None = None) -> Iterator[tuple[Path, Ref]]:
    """Every ``${...}`` reference under ``obj``, with the YAML path of its string.

    A string that does not parse is passed to ``on_error`` (skipped when None); ``skip(path)`` True
    leaves a string out."""
    for where, text in walk_strings(obj, path, "${"):
        if skip is not None and skip(where):
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
