"""Terminal output: live progress, the summary table, coverage, and failure details.

Each text from the run (ids, messages, excerpts) is redacted and made visible on its own
(:func:`._text.cleaner`) before it is laid out and coloured: a secret is never searched for in
flowdoc's own numbers or colour codes, and nothing a server sent acts on the terminal.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Callable, TextIO

from ..verify import ERROR, FAILED, FLAKY, PASSED, SKIPPED, RunResult, Scenario, ScenarioAggregate, ScenarioResult
from ._text import cached_cleaner, cleaner

_MARK = {PASSED: "PASS", FAILED: "FAIL", ERROR: "ERROR", SKIPPED: "SKIP"}
_COLOR = {PASSED: "\x1b[32m", FAILED: "\x1b[31;1m", ERROR: "\x1b[35;1m", SKIPPED: "\x1b[33m",
          FLAKY: "\x1b[33;1m"}
#: failure details name at most this many of the iterations a scenario failed in
_SHOWN_ITERATIONS = 20
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
    """``on_event`` callback for :meth:`flowdoc.verify.Verifier.run`: one line per finished scenario.

    With ``--repeat N``: a line per iteration for the first, every tenth of the run and the last (the
    runs so far), and a scenario's first failure as it happens; later failures are only counted."""

    def __init__(self, stream: TextIO | None = None, color: bool | None = None, redact=lambda s: s):
        self.stream = stream or sys.stderr
        self.color = want_color(self.stream) if color is None else color
        self.clean = cleaner(redact)
        self._lock = threading.Lock()
        self._total = 0
        self._done = 0
        self._iterations = 1
        self._counts = {PASSED: 0, FAILED: 0, ERROR: 0, SKIPPED: 0}
        self._failed: set[str] = set()  # scenarios whose first failure was shown

    def __call__(self, kind: str, payload: object) -> None:
        with self._lock:
            if kind == "iterations":
                self._iterations = int(payload)  # type: ignore[call-overload]
            elif kind == "plan":
                plan: list[Scenario] = payload  # type: ignore[assignment]
                flows = len({s.flow_key for s in plan})
                self._total = len(plan)
                line = (f"flowdoc verify: {len(plan)} scenario{'s' if len(plan) != 1 else ''} "
                        f"in {flows} flow{'s' if flows != 1 else ''}")
                if self._iterations > 1:
                    line += f", {self._iterations} iterations ({len(plan) * self._iterations} scenario runs)"
                self._write(line)
            elif kind == "done":
                res: ScenarioResult = payload  # type: ignore[assignment]
                self._done += 1
                if self._iterations > 1:
                    self._repeated(res)
                else:
                    self._write(self._line(res, f"[{self._done}/{self._total}]"))

    def _line(self, res: ScenarioResult, where: str) -> str:
        mark = _c(f"{_MARK[res.status]:<5}", _COLOR[res.status], self.color)
        line = f"  {mark} {where} {self.clean(res.id)} ({res.duration:.2f} s)"
        if res.status == FAILED and res.failure is not None:
            line += " — " + self.clean(res.failure.summary())
        elif res.status in (ERROR, SKIPPED) and res.reason:
            line += " — " + self.clean(res.reason)
        for w in res.warnings:
            line += "\n        warning: " + self.clean(w)
        return line

    def _repeated(self, res: ScenarioResult) -> None:
        n, i = self._iterations, res.iteration or 1
        self._counts[res.status] = self._counts.get(res.status, 0) + 1
        if res.status in (FAILED, ERROR) and res.id not in self._failed:
            self._failed.add(res.id)
            self._write(self._line(res, f"[iteration {i}/{n}]") + "  (first failure; later ones are counted)")
        if self._total and self._done % self._total == 0 and (i in (1, n) or i % max(1, n // 10) == 0):
            c = self._counts
            self._write(f"  iteration {i}/{n}: {self._done} scenario runs, {c[PASSED]} passed, {c[FAILED]} failed, "
                        f"{c[ERROR]} errors, {c[SKIPPED]} skipped")

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return [fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]


def failure_text(s: ScenarioResult, redact: Callable[[str], str] = lambda t: t) -> str:
    """The details of a failed or errored scenario, each text redacted and made visible."""
    clean = cleaner(redact)
    lines = [f"{clean(s.id)} — {clean(s.title)}"]
    f = s.failure
    if f is not None:
        lines.append(f"  step:     {clean(f.step or '-')}" + (f" ({clean(f.role)})" if f.role else ""))
        lines.append(f"  problem:  {clean(f.message)}")
        for c in f.checks:
            lines.append(f"  {clean(c.what)}:")
            lines.append(f"    expected: {clean(c.expected)}")
            lines.append(f"    actual:   {clean(c.actual)}")
        for name, excerpt in (("request", f.request), ("response", f.response)):
            if excerpt:
                lines.append(f"  {name}:")
                lines += ["    " + x for x in clean(excerpt, multiline=True).split("\n")]
    elif s.reason:
        lines.append(f"  {clean(s.reason)}")
    if s.steps:
        lines.append("  steps:")
        for r in s.steps:
            got = r.status if r.status is not None else clean(r.outcome)
            mark = "" if r.ok else "  <-- here"
            where = f"{clean(r.method)} {clean(r.url)}".strip()
            lines.append(f"    {clean(r.role)}: {clean(r.transition)} {where} -> {got}{mark}")
    return "\n".join(lines)


def failure_details(result: RunResult, color: bool = False) -> str:
    """Each failed or errored scenario; with ``--repeat N``, its first failure, naming the iterations."""
    bad: list[tuple[ScenarioResult, ScenarioAggregate | None]]
    if result.iterations > 1:
        bad = [(a.first_failure, a) for a in result.aggregates() if a.first_failure is not None]
    else:
        bad = [(s, None) for s in result.scenarios if s.status in (FAILED, ERROR)]
    if not bad:
        return ""
    out = []
    for s, agg in bad:
        head = "FAILED" if s.status == FAILED else "ERROR"
        text = failure_text(s, result.redact)
        first, _, rest = text.partition("\n")
        if agg is not None:
            rest = _iterations_line(agg, result.iterations) + ("\n" + rest if rest else "")
        out.append(_c(f"{head} {first}", _COLOR[s.status], color) + ("\n" + rest if rest else ""))
    return "\n\n".join(out) + "\n"


def _iterations_line(agg: ScenarioAggregate, n: int) -> str:
    """``iteration 3 of 100; also failed in iterations 7, 9 (failed in 3 of 100 iterations)``."""
    first, *also = agg.failed_iterations
    line = f"  iteration {first} of {n}"
    if also:
        shown = ", ".join(map(str, also[:_SHOWN_ITERATIONS])) + (", …" if len(also) > _SHOWN_ITERATIONS else "")
        line += f"; also failed in iteration{'s' if len(also) > 1 else ''} {shown}"
    return line + f" (failed in {len(agg.failed_iterations)} of {n} iterations)"


def summary(result: RunResult, color: bool = False) -> str:
    clean = cached_cleaner(result.redact)
    if result.iterations > 1:
        return _repeated_summary(result, clean, color)
    rows = []
    for fr in result.flows:
        key = clean(fr.key)
        rows += [[key, clean(s.name), clean(s.kind), s.status, f"{s.duration:.2f}s"] for s in fr.scenarios]
    lines = _table(rows, ["flow", "scenario", "kind", "result", "time"]) if rows else ["(no scenarios)"]
    lines += _warnings(result, clean)
    lines += _coverage(result, clean)
    n = len(result.scenarios)
    return "\n".join(lines + ["", _tail(result, f"{n} scenario{'s' if n != 1 else ''}", 0, color)]) + "\n"


def _tail(result: RunResult, head: str, flaky: int, color: bool) -> str:
    """``HEAD: 3 passed, 0 failed, 0 errors, 0 skipped[, 1 flaky][, 2 warnings] in 0.4 s``, colored by the
    exit code."""
    warned = result.warning_count()
    tail = (f"{head}: {result.count(PASSED)} passed, {result.count(FAILED)} failed, "
            f"{result.count(ERROR)} errors, {result.count(SKIPPED)} skipped"
            + (f", {flaky} flaky" if flaky else "")
            + (f", {warned} warning{'s' if warned != 1 else ''}" if warned else "")
            + f" in {result.duration:.1f} s")
    final = PASSED if result.exit_code == 0 else (ERROR if result.exit_code in (2, 3) else FAILED)
    return _c(tail, _COLOR[final], color)


def _repeated_summary(result: RunResult, clean: Callable[..., str], color: bool) -> str:
    """``--repeat N``: one row per scenario (its runs counted), the flaky ones named, runs counted."""
    n = result.iterations
    aggs = result.aggregates()
    rows = [[clean(a.flow_key), clean(a.name), clean(a.kind), a.status, f"{a.passed}/{a.runs}",
             f"{a.duration / a.runs:.2f}s" if a.runs else "-"] for a in aggs]
    lines = (_table(rows, ["flow", "scenario", "kind", "result", "passed", "mean time"]) if rows
             else ["(no scenarios)"])
    flaky = result.flaky()
    if flaky:
        lines += ["", _c("flaky (passed in some iterations, failed in others):", _COLOR[FLAKY], color)]
        lines += [f"  {clean(a.id)}: passed {a.passed} of {a.runs} iterations" for a in flaky]
    lines += _warnings(result, clean)
    lines += _coverage(result, clean, repeated=True)
    runs = len(result.scenarios)
    head = (f"{runs} scenario run{'s' if runs != 1 else ''} ({len(aggs)} scenario{'s' if len(aggs) != 1 else ''} "
            f"× {n} iterations)")
    return "\n".join(lines + ["", _tail(result, head, len(flaky), color)]) + "\n"


def _warnings(result: RunResult, clean: Callable[..., str]) -> list[str]:
    found = [(fr.key, w) for fr in result.flows for s in fr.scenarios for w in s.warnings]
    if result.iterations > 1:  # the same warning of every iteration once
        found = list(dict.fromkeys(found))
    if not found:
        return []
    return ["", "warnings:", *(f"  {clean(key)}: {clean(w)}" for key, w in found)]


def _coverage(result: RunResult, clean: Callable[..., str], repeated: bool = False) -> list[str]:
    """Proven of observable per kind; not run named; the unobservable ones listed apart, with why."""
    lines = ["", "coverage (proven of observable; unobservable listed apart):" if not repeated else
             "coverage (proven in every iteration where it ran, of observable; unobservable listed apart):"]
    crow = []
    apart: list[str] = []
    for fr in result.flows:
        c = fr.coverage
        missed = [clean(e.text) for e in c.elements if e.result == "not-run"]
        hidden = c.unobservable()
        apart += _unobservable_lines(fr.key, hidden, clean)
        crow.append([
            clean(fr.key),
            f"transitions {c.ratio('transition')}",
            f"failure branches {c.ratio('failure')}",
            f"statements {c.ratio('statement')}",
            f"unobservable {len(hidden)}" if hidden else "",
            (("not proven in every iteration: " if repeated else "not run: ") + ", ".join(missed)) if missed else "",
        ])
    if crow:
        w = [max(len(r[i]) for r in crow) for i in range(len(crow[0]))]
        lines += ["  " + "  ".join(x.ljust(w[i]) for i, x in enumerate(r)).rstrip() for r in crow]
    if apart:
        lines += ["", "unobservable (not counted above):", *apart]
    return lines


def _unobservable_lines(key: str, elements: list, clean: Callable[..., str]) -> list[str]:
    """One line per element; the states failures lead to, for one reason, on one line."""
    states: dict[str, list[str]] = {}
    out: list[str] = []
    for e in elements:
        if e.id.startswith("state:"):
            states.setdefault(e.reason, []).append(e.id.split("/", 1)[-1])
        else:
            out.append(f"  {clean(key)}  {clean(e.text)} — {clean(e.reason)}")
    for reason, failures in states.items():
        out.insert(0, f"  {clean(key)}  the state after {clean(', '.join(failures))} — {clean(reason)}")
    return out
