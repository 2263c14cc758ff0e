"""The Jinja2 sandbox every template of flowdoc runs in (page templates and site templates).

A templates folder may come from anyone who can open a pull request, so a template is
hostile input: it runs in :class:`TemplateSandbox`, Jinja2's
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` with a few more rules:

- no attribute starting with ``_`` (``cycler.__init__.__globals__``), no ``mro``, no
  function internals (Jinja2's sandbox);
- no method that changes a list, dict or set (the flow and the page data are shared by
  every page rendered from them);
- none of pydantic's model API on the flow (``parse_file``, ``model_validate_json``,
  ``model_construct`` ... read files or build objects): templates read fields and the
  flow's own helper methods;
- ``*``, ``**`` and ``%`` refuse to build huge strings, lists or numbers.

Values from flows are data, never templates: nothing renders a flow's text as a template.

Any error while a template is loaded or rendered — a syntax error, something the
sandbox refuses, an undefined name, an exception — becomes a
:class:`~flowdoc.render.errors.RenderError` naming the template file and line.
"""

from __future__ import annotations

import dataclasses
import re
import traceback
from typing import Any, Callable

import jinja2
import pydantic
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import RenderError

__all__ = ["TemplateSandbox", "BuiltinLoader", "render_template", "MAX_SEQUENCE", "MAX_POWER_BITS"]

#: The longest string or list ``*`` or ``%`` may make in a template.
MAX_SEQUENCE = 1_000_000
#: The largest number (in bits) ``**`` may make in a template.
MAX_POWER_BITS = 4096

_FORMAT_WIDTH = re.compile(r"%[-#0 +]*(?:\*|\d{7,})|%[-#0 +]*\d*\.(?:\*|\d{7,})")


def _model_api() -> frozenset[str]:
    return frozenset(dir(pydantic.BaseModel))


#: what ``d.NAME`` finds on a dict before its key NAME (Jinja tries the attribute first)
_DICT_ATTRIBUTES = frozenset(dir(dict))


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, without pydantic's model API and with bounded operators."""

    intercepted_binops = frozenset({"*", "**", "%"})
    _MODEL_API = _model_api()
    #: how many (type, attribute) answers :meth:`is_safe_attribute` keeps
    _KNOWN_MAX = 4096

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._known: dict[tuple[type, str], bool] = {}
        self._data_fields: dict[type, frozenset[str]] = {}

    def add_data_classes(self, *classes: type) -> None:
        """Dataclasses of plain values handed to templates (a page's rows): :meth:`getattr` reads
        their fields directly. A field must be one :meth:`is_safe_attribute` allows anyway."""
        for cls in classes:
            names = frozenset(f.name for f in dataclasses.fields(cls))
            bad = sorted(n for n in names if n.startswith("_") or n in self._MODEL_API)
            if bad:
                raise ValueError(f"{cls.__name__}: fields {bad} are not for templates")
            self._data_fields[cls] = names

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Jinja's lookup, with two shortcuts that give the same answers (a page reads some 500
        # values): the key of a plain dict (a dict's attributes, ``d.items``, still go the long
        # way), and a field of a registered data class that holds a value (a callable goes the
        # long way: Jinja wraps ``str.format``).
        cls = type(obj)
        if cls is dict:
            if attribute not in _DICT_ATTRIBUTES:
                try:
                    return obj[attribute]
                except (TypeError, LookupError):
                    return self.undefined(obj=obj, name=attribute)
        else:
            fields = self._data_fields.get(cls)
            if fields is not None and attribute in fields:
                value = obj.__dict__.get(attribute, _ABSENT)
                if value is not _ABSENT and not callable(value):
                    return value
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # Every rule (Jinja2's, and the model API's) depends on the object's type and the name
        # only: the answer is kept per (type, name) for instances (a page reads the same few
        # attributes thousands of times). Classes, and objects whose __class__ is not their
        # type, are checked every time.
        cls = type(obj)
        if isinstance(obj, type) or obj.__class__ is not cls:
            return self._safe_attribute(obj, attr, value)
        key = (cls, attr)
        known = self._known.get(key)
        if known is None:
            known = self._safe_attribute(obj, attr, value)
            if len(self._known) < self._KNOWN_MAX:
                self._known[key] = known
        return known

    def _safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr in self._MODEL_API and _is_model(obj):
            return False
        return super().is_safe_attribute(obj, attr, value)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str) and _FORMAT_WIDTH.search(left):
            raise SecurityError(f"a % format with a width or precision over {MAX_SEQUENCE:,} is not allowed")
        return super().call_binop(context, operator, left, right)


_ABSENT = object()


def _is_model(obj: Any) -> bool:
    cls = obj if isinstance(obj, type) else type(obj)
    return any(c.__module__.startswith("pydantic") for c in getattr(cls, "__mro__", ()))


def _check_repeat(seq: Any, n: Any) -> None:
    if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_SEQUENCE:
        raise SecurityError(f"a string or list longer than {MAX_SEQUENCE:,} items is not allowed")


def _check_power(base: Any, exp: Any) -> None:
    if isinstance(base, int) and isinstance(exp, int) and exp > 0:
        if max(abs(base), 2).bit_length() * exp > MAX_POWER_BITS:
            raise SecurityError(f"a number larger than {MAX_POWER_BITS} bits is not allowed")


class BuiltinLoader(jinja2.DictLoader):
    """Templates held in memory, reported as ``<flowdoc NAME>`` in errors."""

    # jinja2 types DictLoader's filename as None; BaseLoader.get_source (what Environment calls) allows a str
    def get_source(  # type: ignore[override]
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool]]:
        source, _, uptodate = super().get_source(environment, template)
        return source, f"<flowdoc {template}>", uptodate


def _template_frame(exc: BaseException) -> tuple[str, int] | None:
    """The innermost template file and line of an exception raised while rendering."""
    where = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.name == "top-level template code" or frame.name.startswith(("block ", "macro ", "template")):
            where = (frame.filename, frame.lineno or 0)
    return where


def _message(exc: BaseException) -> str:
    if isinstance(exc, SecurityError):
        return f"not allowed in a template (templates run in a sandbox): {exc}"
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"template not found: {exc.name}"
    if isinstance(exc, jinja2.UndefinedError):
        return f"undefined value: {exc}"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, jinja2.TemplateError) else f"{type(exc).__name__}: {text}"


def template_error(exc: BaseException, name: str) -> RenderError:
    """A :class:`RenderError` for an exception raised by template ``name``: FILE:LINE: what."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where: tuple[str, int] | None = (exc.filename or exc.name or name, exc.lineno or 0)
        what = exc.message or str(exc)
    else:
        where = _template_frame(exc)
        what = _message(exc)
    place = f"{where[0]}:{where[1]}" if where else name
    return RenderError(f"{place}: template error: {what}")


def render_template(env: jinja2.Environment, name: str, **context: Any) -> str:
    """Render template ``name``; any failure is a :class:`RenderError` with its file and line."""
    try:
        return env.get_template(name).render(**context)
    except RenderError:
        raise
    except RecursionError:
        raise RenderError(f"{name}: template error: templates include or call each other without end") from None
    except Exception as exc:  # noqa: BLE001 - every template failure is reported, never a traceback
        raise template_error(exc, name) from None
