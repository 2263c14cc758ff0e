"""Values a page derives from its flow many times, made once per page.

A page shows the same things in several places: the order of the steps (the tables, the
flowchart, every "from step N" in words), the secret values (checked for each parameter,
header and body value), the label of a request or a response (on the sequence diagram's
arrow and in the steps table). Within :func:`one_page` for a flow, :func:`once` keeps each
such value for the rest of that page; outside it (or for another flow) it just computes.

The values are kept per page, never across pages: a flow object can change between two
renders (tests edit them), and memory stays bounded by one page.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Hashable, Iterator, TypeVar

__all__ = ["one_page", "once", "once_for"]

T = TypeVar("T")


class _Page:
    __slots__ = ("flow", "values")

    def __init__(self, flow: Any) -> None:
        self.flow = flow
        #: key -> (the object the value was made from, the value): the object is kept so that
        #: its id, part of the key, cannot be reused by another object while the page is made
        self.values: dict[tuple, tuple[Any, Any]] = {}


_PAGE: ContextVar[_Page | None] = ContextVar("flowdoc_render_page", default=None)


@contextmanager
def one_page(flow: Any) -> Iterator[None]:
    """Within: :func:`once` keeps what it makes from ``flow`` (nested calls for the same flow
    share the values; a page of another flow gets its own)."""
    page = _PAGE.get()
    if page is not None and page.flow is flow:
        yield
        return
    token = _PAGE.set(_Page(flow))
    try:
        yield
    finally:
        _PAGE.reset(token)


def once(flow: Any, name: Hashable, obj: Any, make: Callable[[], T]) -> T:
    """``make()``, the value ``name`` of ``obj`` (``flow`` itself or a part of it), made once per page."""
    page = _PAGE.get()
    if page is None or page.flow is not flow:
        return make()
    key = (name, id(obj))
    got = page.values.get(key)
    if got is not None and got[0] is obj:
        return got[1]
    value = make()
    page.values[key] = (obj, value)
    return value


def once_for(obj: Any, name: Hashable, make: Callable[[], T]) -> T:
    """Like :func:`once`, for a value that depends on ``obj`` alone (not on the flow)."""
    page = _PAGE.get()
    if page is None:
        return make()
    return once(page.flow, name, obj, make)
