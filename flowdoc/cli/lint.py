"""flowdoc lint: validate, then check the documentation best practices."""

from __future__ import annotations

import json

import click

from ..check import RULES
from ..diagnostics import (
    Diagnostic,
    Suppressed,
    format_github,
    format_json,
    format_suppressed,
)
from ._common import config_or_exit, emit, format_option, load_flows


def _rules_help() -> str:
    lines = ["\b", "Rules (configure in [tool.flowdoc.lint] of pyproject.toml: disable = [...], severity = {...}):"]
    for rid, cls in RULES.items():
        lines.append(f"  {rid} ({cls.severity}): {cls.rationale}")
    lines += ["", "\b", "Exit codes: 0 clean, 1 findings, 2 invalid flow or usage."]
    return "\n".join(lines)


@click.command(epilog=_rules_help())
@click.argument("paths", nargs=-1, type=click.Path())
@format_option
@click.option("--list-rules", is_flag=True, help="Print the rules with their rationale and exit.")
@click.option("--show-suppressed", is_flag=True,
              help="Also list the findings flows switch off with lint: {disable: [...], reason: ...}, with the "
              "reason (json: an object {diagnostics, suppressed}).")
def command(paths: tuple[str, ...], fmt: str, list_rules: bool, show_suppressed: bool) -> None:
    """Lint flow files against the documentation best practices.

    A flow, or one transition, may switch rules off with the reason:
    lint: {disable: [arrow-complete], reason: "RFC 7009 answers an empty 200"}
    """
    if list_rules:
        _list_rules(fmt)
        return
    config = config_or_exit()
    res = load_flows(paths, config, lint=True, lint_config=config.lint)
    suppressed = res.suppressed
    if show_suppressed and fmt == "json":
        click.echo(format_json(sorted(res.diagnostics, key=Diagnostic.sort_key), suppressed))
    else:
        emit(res.diagnostics, fmt, len(res.files))
        if show_suppressed and suppressed:
            _show(suppressed, fmt)
    if suppressed and fmt == "text":
        click.echo(f"{len(suppressed)} finding{'s' if len(suppressed) != 1 else ''} suppressed by lint: in the "
                   f"flows{'' if show_suppressed else ' (--show-suppressed lists them)'}", err=True)
    raise SystemExit(2 if res.invalid else (1 if res.diagnostics else 0))


def _show(suppressed: list[Suppressed], fmt: str) -> None:
    if fmt == "github":  # notices: seen on the pull request, never failing it
        click.echo(format_github([Diagnostic(s.diagnostic.file, s.diagnostic.line, s.diagnostic.col,
                                             s.diagnostic.code, f"suppressed: {s.diagnostic.message} "
                                             f"(reason: {s.reason})", "info") for s in suppressed]))
    else:
        click.echo(format_suppressed(suppressed))


def _list_rules(fmt: str) -> None:
    """The rules: a line each (text), or a JSON list of {id, severity, rationale}."""
    if fmt == "github":
        raise click.UsageError("--list-rules prints text or json (--format github is for findings)")
    if fmt == "json":
        click.echo(json.dumps([{"id": rid, "severity": cls.severity, "rationale": cls.rationale}
                               for rid, cls in RULES.items()], indent=2, ensure_ascii=False))
        return
    for rid, cls in RULES.items():
        click.echo(f"{rid}\t{cls.severity}\t{cls.rationale}")
