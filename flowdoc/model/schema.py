"""The JSON Schema of the flow format, for editors (yaml-language-server)."""

from __future__ import annotations

import json
from typing import Any

from .flow import FORMAT_VERSION, Flow

#: Where the schema is published; stable: it changes only with the format version (``flowdoc: 1``).
#: Modelines of new flows (``flowdoc new``) point here: ``# yaml-language-server: $schema=SCHEMA_ID``.
SCHEMA_ID = f"https://flowdoc.dev/schema/flow-{FORMAT_VERSION}.json"


def flow_json_schema() -> dict[str, Any]:
    schema = Flow.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def flow_json_schema_text() -> str:
    return json.dumps(flow_json_schema(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
