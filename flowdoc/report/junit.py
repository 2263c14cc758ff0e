"""JUnit XML: one test suite per flow, one test case per scenario (with ``--repeat N``, one per
scenario per iteration, named ``SCENARIO [i/N]``).

Every text is redacted and made visible (:func:`._text.cleaner`) as it goes into the tree,
before ElementTree serializes it: the document is well-formed whatever a secret or a server's
answer holds (quotes, ``<``, ``&``, NUL, escape sequences), and numbers are never touched.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..verify import ERROR, FAILED, SKIPPED, RunResult, ScenarioResult
from ._text import cleaner
from .terminal import failure_text

#: the system-out of a run whose steps were not kept (--repeat: memory stays bounded)
_NOT_KEPT = "(steps not kept after the first iteration: see it, and the scenario's first failure)\n"


def _case(suite: ET.Element, flow_key: str, s: ScenarioResult, file: str, result: RunResult) -> None:
    clean = cleaner(result.redact)
    name = clean(s.name) + (f" [{s.iteration}/{result.iterations}]" if s.iteration is not None else "")
    case = ET.SubElement(suite, "testcase", {
        "classname": clean(f"flowdoc.{flow_key}"),
        "name": name,
        "time": f"{s.duration:.3f}",
        "file": clean(file),
    })
    if s.status == FAILED and s.failure is not None:
        el = ET.SubElement(case, "failure", {"message": clean(s.failure.summary()), "type": "conformance"})
        el.text = failure_text(s, result.redact)
    elif s.status == ERROR:
        kind = "unreachable" if s.unreachable else ("usage" if s.usage_error else "error")
        el = ET.SubElement(case, "error", {"message": clean(s.reason or "error"), "type": kind})
        el.text = failure_text(s, result.redact)
    elif s.status == SKIPPED:
        ET.SubElement(case, "skipped", {"message": clean(s.reason)})
    out = ET.SubElement(case, "system-out")
    out.text = (_NOT_KEPT if s.abridged else "") + "".join(f"warning: {clean(w)}\n" for w in s.warnings) + "\n".join(
        f"{clean(r.role)}: {clean(r.transition)} {clean(r.method)} {clean(r.url)} -> "
        f"{r.status if r.status is not None else clean(r.outcome)}"
        for r in s.steps
    )


def junit_xml(result: RunResult) -> str:
    clean = cleaner(result.redact)
    root = ET.Element("testsuites", {
        "name": "flowdoc verify",
        "tests": str(len(result.scenarios)),
        "failures": str(result.count(FAILED)),
        "errors": str(result.count(ERROR)),
        "skipped": str(result.count(SKIPPED)),
        "time": f"{result.duration:.3f}",
    })
    for fr in result.flows:
        suite = ET.SubElement(root, "testsuite", {
            "name": clean(fr.key),
            "tests": str(len(fr.scenarios)),
            "failures": str(sum(1 for s in fr.scenarios if s.status == FAILED)),
            "errors": str(sum(1 for s in fr.scenarios if s.status == ERROR)),
            "skipped": str(sum(1 for s in fr.scenarios if s.status == SKIPPED)),
            "time": f"{sum(s.duration for s in fr.scenarios):.3f}",
            "timestamp": clean(result.started),
            "file": clean(fr.file),
        })
        props = ET.SubElement(suite, "properties")
        cov = fr.coverage
        not_run = [e.text for e in cov.elements if e.result == "not-run"]
        for name, value in (
            ("flow.version", clean(fr.version or "")),
            ("coverage.transitions", f"{len(cov.proven('transition'))}/{len(cov.observable('transition'))}"),
            ("coverage.failures", f"{len(cov.proven('failure'))}/{len(cov.observable('failure'))}"),
            ("coverage.statements", f"{len(cov.proven('statement'))}/{len(cov.observable('statement'))}"),
            ("coverage.missed", clean(" ".join(not_run))),
            ("coverage.unobservable", clean("; ".join(f"{e.text}: {e.reason}" for e in cov.unobservable()))),
        ):
            ET.SubElement(props, "property", {"name": name, "value": value})
        for s in fr.scenarios:
            _case(suite, fr.key, s, fr.file, result)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
