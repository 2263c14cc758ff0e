"""JSON Schema questions the OpenAPI cross-check asks: which properties an object has, which values a
string may take. Through local ``$ref``, ``allOf``, ``oneOf`` and ``anyOf``, iteratively and with a
budget of :data:`MAX_SCHEMA_VISITS` schemas per question (a hostile fan-out cannot blow up)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_SCHEMA_VISITS = 2_000  # schemas visited to answer one question (allOf/oneOf/anyOf fan-out)


def _escape(token: Any) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


@dataclass
class Props:
    """What a schema says about an object's properties."""

    names: dict[str, tuple[Any, str]] = field(default_factory=dict)  # name -> (subschema, pointer)
    open: bool = False  # additionalProperties, a remote or unresolvable $ref: any name may be right

    def knows(self, name: str) -> bool:
        return self.open or not self.names or name in self.names


def properties(desc: Any, schema: Any, ptr: str) -> Props:
    """The properties a schema declares, through $ref, allOf, oneOf and anyOf (bounded)."""
    out = Props()
    stack = [(schema, ptr)]
    visits = 0
    while stack:
        visits += 1
        if visits > MAX_SCHEMA_VISITS:
            out.open = True
            break
        node, at = desc.resolve(*stack.pop())
        if not isinstance(node, dict):
            out.open = out.open or node is None
            continue
        if node.get("additionalProperties") not in (None, False) or node.get("patternProperties"):
            out.open = True
        for name, sub in (node.get("properties") or {}).items() if isinstance(node.get("properties"), dict) else ():
            out.names.setdefault(str(name), (sub, f"{at}/properties/{_escape(name)}"))
        for kw in ("allOf", "oneOf", "anyOf"):
            branches = node.get(kw)
            if isinstance(branches, list):
                stack.extend((b, f"{at}/{kw}/{i}") for i, b in enumerate(branches))
    return out


def enum_values(desc: Any, schema: Any, ptr: str) -> tuple[set | None, str]:
    """The values an (error) schema allows, or None when it does not list them."""
    values: set = set()
    stack, visits, listed = [(schema, ptr)], 0, False
    first_ptr = ptr
    while stack and visits < MAX_SCHEMA_VISITS:
        visits += 1
        node, at = desc.resolve(*stack.pop())
        if not isinstance(node, dict):
            return None, ptr
        if isinstance(node.get("enum"), list):
            values.update(v for v in node["enum"] if isinstance(v, str))
            listed, first_ptr = True, f"{at}/enum"
        elif "const" in node:
            values.add(node["const"])
            listed, first_ptr = True, at
        branches = [(kw, items) for kw in ("oneOf", "anyOf") if isinstance(items := node.get(kw), list)]
        for kw, items in branches:
            stack.extend((b, f"{at}/{kw}/{i}") for i, b in enumerate(items))
        if not branches and "enum" not in node and "const" not in node:
            return None, at  # a branch that allows any string
    return (values if listed else None), first_ptr
