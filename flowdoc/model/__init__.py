"""Model: the flow format (pydantic), its expression language and its JSON Schema."""

from .build import build_flow
from .flow import FORMAT_VERSION, Actor, Failure, Flow, Input, Lifecycle, Request, Response, State, Transition
from .schema import flow_json_schema

__all__ = [
    "FORMAT_VERSION",
    "Actor",
    "Failure",
    "Flow",
    "Input",
    "Lifecycle",
    "Request",
    "Response",
    "State",
    "Transition",
    "build_flow",
    "flow_json_schema",
]
