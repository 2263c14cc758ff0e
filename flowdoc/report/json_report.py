"""The full result of a verify run as JSON (scenarios, steps, failures, coverage).

Redacted as data: every string value of the result is scrubbed before ``json.dumps``, so the
report is valid JSON whatever a secret looks like, and numbers (durations, counts) are never
touched. Control characters from a server stay in the strings, escaped by JSON (``\\u001b``);
C1 controls and direction overrides, which JSON may carry raw, are escaped too, so printing the
file in a terminal is harmless.
"""

from __future__ import annotations

import json
import re

from ..verify import RunResult
from ..verify._redact import scrub

# raw in a JSON text these can only stand inside strings, where \uXXXX means the same character
_TERMINAL_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_report(result: RunResult) -> str:
    text = json.dumps(scrub(result.to_dict(), result.redact), indent=2, ensure_ascii=False)
    return _TERMINAL_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"
