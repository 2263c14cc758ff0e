"""flowdoc check --against REV: for CI, no flow changes without a version bump, changelog note and date."""

from __future__ import annotations

import click

from ._common import config_or_exit, emit, fail, format_option, no_flows, paths_or_default

EPILOG = """\b
For every flow file, the same path at REV is the old version (a file new
since REV passes). A flow that changed semantically (see `flowdoc diff`) must
  - raise its version: major for a breaking change, minor for a warning or an
    addition, patch for anything else (below 1.0.0 one level less will do);
  - have a changelog entry for the new version;
  - move 'updated' forward.
Each semantic change is listed too (info), at its line in the file.

\b
Example (GitHub Actions, with the base branch fetched):
  flowdoc check --against origin/main --format github

\b
Exit codes: 0 clean, 1 findings, 2 invalid flow, unknown revision or usage error."""


@click.command(epilog=EPILOG)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--against", "rev", required=True, metavar="REV",
              help="Git revision to compare with: a branch, tag or commit (e.g. origin/main, v1.2.0, HEAD~1).")
@format_option
@click.option("--changes/--no-changes", "show_changes", default=True, show_default=True,
              help="List each semantic change as an info finding.")
def command(paths: tuple[str, ...], rev: str, fmt: str, show_changes: bool) -> None:
    """Check that changed flows are versioned (PATHS: files or folders; default: the flows folder)."""
    from ..check import CheckResult
    from ..diff.check import RevisionError, check_against

    config = config_or_exit()
    try:
        res = check_against(paths_or_default(paths, config), rev, show_changes=show_changes)
    except RevisionError as exc:
        fail(str(exc))
    probe = CheckResult(files=res.files, diagnostics=res.diagnostics, invalid=res.invalid)
    no_flows(probe, paths, config)
    emit(probe.diagnostics, fmt, len(res.files))
    if fmt == "text" and res.reports:
        changed = [r for r in res.reports if r.changes]
        new = [r for r in res.reports if r.old is None]
        bad = [r for r in res.reports if not r.ok]
        click.echo(f"against {rev}: {len(changed)} changed, {len(new)} new or not comparable, "
                   f"{len(res.reports) - len(changed) - len(new)} unchanged; "
                   f"{len(bad)} need a version bump, changelog note or date", err=True)
    raise SystemExit(2 if probe.invalid else (1 if res.failed else 0))
