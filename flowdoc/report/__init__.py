"""Report: a verify :class:`~flowdoc.verify.RunResult` for people (terminal) and tools (JUnit, JSON).

Results hold only redacted text; every writer redacts each text once more with the run's
redactor (secrets first seen later in the run) before it lays the text out, never the
serialized output: JSON and XML stay valid whatever a secret looks like, and flowdoc's own
numbers are never touched. Control characters from a server are escaped for the terminal and
for XML (``\x1b``), and kept, JSON-escaped, in the JSON report.
"""

from .json_report import json_report
from .junit import junit_xml
from .terminal import Progress, failure_details, summary

__all__ = ["Progress", "failure_details", "json_report", "junit_xml", "summary"]
