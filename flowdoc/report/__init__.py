"""Report: a verify :class:`~flowdoc.verify.RunResult` for people (terminal) and tools (JUnit, JSON).

Results hold only redacted text; every writer scrubs its output once more with the run's
redactor before it leaves the process.
"""

from .json_report import json_report
from .junit import junit_xml
from .terminal import Progress, failure_details, summary

__all__ = ["Progress", "failure_details", "json_report", "junit_xml", "summary"]
