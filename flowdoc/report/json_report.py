"""The full result of a verify run as JSON (scenarios, steps, failures, coverage)."""

from __future__ import annotations

import json

from ..verify import RunResult


def json_report(result: RunResult) -> str:
    return result.redact(json.dumps(result.to_dict(), indent=2, ensure_ascii=False)) + "\n"
