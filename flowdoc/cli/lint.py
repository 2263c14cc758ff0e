"""flowdoc lint: validate, then check the documentation best practices."""

from __future__ import annotations

import json

import click

from ..check import RULES
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
def command(paths: tuple[str, ...], fmt: str, list_rules: bool) -> None:
    """Lint flow files against the documentation best practices."""
    if list_rules:
        _list_rules(fmt)
        return
    config = config_or_exit()
    res = load_flows(paths, config, lint=True, lint_config=config.lint)
    emit(res.diagnostics, fmt, len(res.files))
    raise SystemExit(2 if res.invalid else (1 if res.diagnostics else 0))


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
