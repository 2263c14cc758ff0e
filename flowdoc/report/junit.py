"""JUnit XML: one test suite per flow, one test case per scenario."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..verify import ERROR, FAILED, SKIPPED, RunResult, ScenarioResult
from .terminal import failure_text


def _case(suite: ET.Element, flow_key: str, s: ScenarioResult, file: str) -> None:
    case = ET.SubElement(suite, "testcase", {
        "classname": f"flowdoc.{flow_key}",
        "name": s.name,
        "time": f"{s.duration:.3f}",
        "file": file,
    })
    if s.status == FAILED and s.failure is not None:
        el = ET.SubElement(case, "failure", {"message": s.failure.summary(), "type": "conformance"})
        el.text = failure_text(s)
    elif s.status == ERROR:
        kind = "unreachable" if s.unreachable else ("usage" if s.usage_error else "error")
        el = ET.SubElement(case, "error", {"message": s.reason or "error", "type": kind})
        el.text = failure_text(s)
    elif s.status == SKIPPED:
        ET.SubElement(case, "skipped", {"message": s.reason})
    out = ET.SubElement(case, "system-out")
    out.text = "\n".join(
        f"{r.role}: {r.transition} {r.method} {r.url} -> {r.status if r.status is not None else r.outcome}"
        for r in s.steps
    )


def junit_xml(result: RunResult) -> str:
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
            "name": fr.key,
            "tests": str(len(fr.scenarios)),
            "failures": str(sum(1 for s in fr.scenarios if s.status == FAILED)),
            "errors": str(sum(1 for s in fr.scenarios if s.status == ERROR)),
            "skipped": str(sum(1 for s in fr.scenarios if s.status == SKIPPED)),
            "time": f"{sum(s.duration for s in fr.scenarios):.3f}",
            "timestamp": result.started,
            "file": fr.file,
        })
        props = ET.SubElement(suite, "properties")
        cov = fr.coverage
        for name, value in (
            ("flow.version", fr.version or ""),
            ("coverage.transitions", f"{len(cov.transitions_covered)}/{len(cov.transitions)}"),
            ("coverage.failures", f"{len(cov.failures_covered)}/{len(cov.failures)}"),
            ("coverage.missed", " ".join(cov.transitions_missed + cov.failures_missed)),
        ):
            ET.SubElement(props, "property", {"name": name, "value": value})
        for s in fr.scenarios:
            _case(suite, fr.key, s, fr.file)
    ET.indent(root)
    return result.redact('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n")
