"""Terminal output: live progress, the summary table, coverage, and failure details."""

from __future__ import annotations

import os
import sys
import threading
from typing import TextIO

from ..verify import ERROR, FAILED, PASSED, SKIPPED, RunResult, Scenario, ScenarioResult

_MARK = {PASSED: "PASS", FAILED: "FAIL", ERROR: "ERROR", SKIPPED: "SKIP"}
_COLOR = {PASSED: "\x1b[32m", FAILED: "\x1b[31;1m", ERROR: "\x1b[35;1m", SKIPPED: "\x1b[33m"}
_RESET = "\x1b[0m"
_DIM = "\x1b[2m"


def want_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def _c(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


class Progress:
    """``on_event`` callback for :meth:`flowdoc.verify.Verifier.run`: one line per finished scenario."""

    def __init__(self, stream: TextIO | None = None, color: bool | None = None, redact=lambda s: s):
        self.stream = stream or sys.stderr
        self.color = want_color(self.stream) if color is None else color
        self.redact = redact
        self._lock = threading.Lock()
        self._total = 0
        self._done = 0

    def __call__(self, kind: str, payload: object) -> None:
        with self._lock:
            if kind == "plan":
                plan: list[Scenario] = payload  # type: ignore[assignment]
                flows = len({s.flow_key for s in plan})
                self._total = len(plan)
                self._write(f"flowdoc verify: {len(plan)} scenario{'s' if len(plan) != 1 else ''} "
                            f"in {flows} flow{'s' if flows != 1 else ''}")
            elif kind == "done":
                res: ScenarioResult = payload  # type: ignore[assignment]
                self._done += 1
                mark = _c(f"{_MARK[res.status]:<5}", _COLOR[res.status], self.color)
                line = f"  {mark} [{self._done}/{self._total}] {res.id} ({res.duration:.2f} s)"
                if res.status == FAILED and res.failure is not None:
                    line += " — " + res.failure.summary()
                elif res.status in (ERROR, SKIPPED) and res.reason:
                    line += " — " + res.reason
                self._write(line)

    def _write(self, line: str) -> None:
        self.stream.write(self.redact(line) + "\n")
        self.stream.flush()


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return [fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]


def failure_text(s: ScenarioResult) -> str:
    """The details of a failed or errored scenario (already redacted text)."""
    lines = [f"{s.id} — {s.title}"]
    f = s.failure
    if f is not None:
        lines.append(f"  step:     {f.step or '-'}" + (f" ({f.role})" if f.role else ""))
        lines.append(f"  problem:  {f.message}")
        for c in f.checks:
            lines.append(f"  {c.what}:")
            lines.append(f"    expected: {c.expected}")
            lines.append(f"    actual:   {c.actual}")
        if f.request:
            lines.append("  request:")
            lines += ["    " + x for x in f.request.splitlines()]
        if f.response:
            lines.append("  response:")
            lines += ["    " + x for x in f.response.splitlines()]
    elif s.reason:
        lines.append(f"  {s.reason}")
    if s.steps:
        lines.append("  steps:")
        for r in s.steps:
            got = r.status if r.status is not None else r.outcome
            mark = "" if r.ok else "  <-- here"
            where = f"{r.method} {r.url}".strip()
            lines.append(f"    {r.role}: {r.transition} {where} -> {got}{mark}")
    return "\n".join(lines)


def failure_details(result: RunResult, color: bool = False) -> str:
    bad = [s for s in result.scenarios if s.status in (FAILED, ERROR)]
    if not bad:
        return ""
    out = []
    for s in bad:
        head = "FAILED" if s.status == FAILED else "ERROR"
        text = failure_text(s)
        first, _, rest = text.partition("\n")
        out.append(_c(f"{head} {first}", _COLOR[s.status], color) + ("\n" + rest if rest else ""))
    return result.redact("\n\n".join(out) + "\n")


def summary(result: RunResult, color: bool = False) -> str:
    rows = []
    for fr in result.flows:
        for s in fr.scenarios:
            rows.append([fr.key, s.name, s.kind, s.status, f"{s.duration:.2f}s"])
    lines = _table(rows, ["flow", "scenario", "kind", "result", "time"]) if rows else ["(no scenarios)"]
    lines.append("")
    lines.append("coverage:")
    crow = []
    for fr in result.flows:
        c = fr.coverage
        crow.append([
            fr.key,
            f"transitions {len(c.transitions_covered)}/{len(c.transitions)} ({c.transition_pct:g}%)",
            f"failure branches {len(c.failures_covered)}/{len(c.failures)} ({c.failure_pct:g}%)",
            ("missed: " + ", ".join(c.transitions_missed + c.failures_missed)) if (c.transitions_missed or c.failures_missed) else "",
        ])
    if crow:
        w = [max(len(r[i]) for r in crow) for i in range(4)]
        lines += ["  " + "  ".join(x.ljust(w[i]) for i, x in enumerate(r)).rstrip() for r in crow]
    n = len(result.scenarios)
    tail = (f"{n} scenario{'s' if n != 1 else ''}: {result.count(PASSED)} passed, {result.count(FAILED)} failed, "
            f"{result.count(ERROR)} errors, {result.count(SKIPPED)} skipped in {result.duration:.1f} s")
    status = PASSED if result.exit_code == 0 else (ERROR if result.exit_code in (2, 3) else FAILED)
    lines += ["", _c(tail, _COLOR[status], color)]
    return result.redact("\n".join(lines) + "\n")
