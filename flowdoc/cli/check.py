"""flowdoc check: for CI, changed flows are versioned (--against), match the API's OpenAPI description
(--openapi) and the authorization server's discovery document (--discovery)."""

from __future__ import annotations

import click

from ..check.discovery import cross_check
from ..diagnostics import escape_control
from ..diff.check import check_against
from ..git import GitError
from ..git import merge_base as git_merge_base
from ..interop.openapi import OpenApiError, check_flows, iter_summary, load_description
from ..verify._discovery import DiscoveryError, DiscoveryUnreachable, read_metadata
from ._common import config_or_exit, emit, fail, format_option, load_flows, no_flows_found, paths_or_default

EPILOG = """\b
--against REV (or --merge-base REF): for every flow file, the same path at
REV is the old version (a file new since REV passes). A flow that changed
semantically (see `flowdoc diff`) must
  - raise its version: major for a breaking change, minor for a warning or an
    addition, patch for anything else (below 1.0.0 one level less will do);
  - have a changelog entry for the new version;
  - move 'updated' forward.
Each semantic change is listed too (info), at its line in the file.

\b
--openapi FILE|URL: every documented request must exist in the API's
OpenAPI 3 description: path (templates match: {uid} = {id}) and method,
each documented status (or a 4XX range or default), response fields,
query/form/JSON parameters, and error codes where the description lists them
(the enum of the response's `error` property). Only local $refs are followed;
a URL is fetched once, redirects are not followed. Each finding names the
flow's FILE:LINE:COL and the JSON pointer in the description.

\b
--discovery FILE|URL: the authorization server's metadata (OpenID Connect
Discovery or RFC 8414): a JSON file, the document's URL, or the issuer's
base URL (then {issuer}/.well-known/openid-configuration, then the RFC 8414
locations are tried; no redirects are followed). Each place where it
contradicts a flow is reported at the flow's FILE:LINE:COL: an endpoint named
by `endpoint:` that it lacks, grant types, response types, PKCE methods,
client authentication at the token/introspection/revocation endpoints, ID
token signing algorithms (errors) and scopes (warnings: servers may leave
scopes out). Requests to the flows' authorization-server and
identity-provider actors are compared (--actor to choose).

\b
Examples:
  flowdoc check --against origin/main --format github
  flowdoc check --merge-base origin/main flows/        # pre-commit: since this branch left main
  flowdoc check --openapi openapi.yaml --actor api flows/
  flowdoc check --discovery https://auth.example.com flows/

\b
Exit codes: 0 clean, 1 findings, 2 invalid flow, unreadable description,
unknown revision or usage error."""


def merge_base(ref: str) -> str:
    """The commit where HEAD left REF (``git merge-base HEAD REF``)."""
    try:
        return git_merge_base(ref)
    except GitError as exc:
        fail(str(exc))


@click.command(epilog=EPILOG)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--against", "rev", metavar="REV",
              help="Git revision to compare with: a branch, tag or commit (e.g. origin/main, v1.2.0, HEAD~1).")
@click.option("--merge-base", "base_ref", metavar="REF",
              help="Compare with the merge base of HEAD and REF (where this branch left it), e.g. origin/main.")
@click.option("--openapi", "openapi", metavar="FILE|URL",
              help="OpenAPI 3 description (YAML or JSON file, or http(s) URL) the flows must match.")
@click.option("--discovery", "discovery", metavar="FILE|URL",
              help="Authorization server metadata (JSON file, its URL, or the issuer) the flows must not contradict.")
@click.option("--actor", "actors", multiple=True, metavar="ID",
              help="With --openapi or --discovery: check only requests sent to this actor (repeatable; default: "
                   "all for --openapi, authorization servers and identity providers for --discovery).")
@format_option
@click.option("--changes/--no-changes", "show_changes", default=True, show_default=True,
              help="List each semantic change as an info finding.")
def command(paths: tuple[str, ...], rev: str | None, base_ref: str | None, openapi: str | None,
            discovery: str | None, actors: tuple[str, ...], fmt: str, show_changes: bool) -> None:
    """Check flows for CI (PATHS: files or folders; default: the flows folder)."""
    if rev and base_ref:
        raise click.UsageError("give --against or --merge-base, not both")
    if not (rev or base_ref or openapi or discovery):
        raise click.UsageError("nothing to check: give --against REV, --merge-base REF, --openapi FILE|URL "
                               "and/or --discovery FILE|URL")
    config = config_or_exit()
    targets = paths_or_default(paths, config)
    desc = _load_openapi(openapi) if openapi else None
    meta = _load_discovery(discovery) if discovery else None
    diagnostics, nfiles, invalid, failed, notes = [], 0, False, False, []
    if base_ref and not rev:
        rev = merge_base(base_ref)
    if rev:
        res, label = _against(targets, paths, config, rev, base_ref, show_changes)
        diagnostics, nfiles, invalid, failed = res.diagnostics, len(res.files), res.invalid, res.failed
        notes += _against_summary(res, label)
    if desc is not None:
        found, n, bad, summary = _openapi(desc, paths, config, actors, with_flow_errors=not (rev or base_ref))
        diagnostics += found
        nfiles = max(nfiles, n)
        invalid = invalid or bad
        failed = failed or any(d.severity == "error" for d in found)
        notes += summary
    if meta is not None:
        found, n, bad, summary = _discovery(meta, paths, config, actors,
                                            with_flow_errors=not (rev or base_ref or openapi))
        diagnostics += found
        nfiles = max(nfiles, n)
        invalid = invalid or bad
        failed = failed or any(d.severity == "error" for d in found)
        notes += summary
    emit(diagnostics, fmt, nfiles)
    if fmt == "text":
        for line in notes:
            click.echo(line, err=True)
    raise SystemExit(2 if invalid else (1 if failed else 0))


def _load_openapi(source: str):
    try:
        return load_description(source)
    except OpenApiError as exc:
        fail(f"unreadable OpenAPI description: {exc}")


def _load_discovery(source: str):
    try:
        return read_metadata(source)
    except DiscoveryUnreachable as exc:
        fail(escape_control(f"unreachable discovery document: {exc}"), 3)
    except DiscoveryError as exc:
        fail(escape_control(f"unreadable discovery document: {exc}"))


def _discovery(meta, paths, config, actors, *, with_flow_errors: bool):
    res = load_flows(paths, config)
    found = []
    for flow in res.flows:
        found += cross_check(flow, meta.doc, actors=actors or None, source=f"discovery {meta.url}")
    if with_flow_errors:
        found = res.diagnostics + found
    errors = sum(1 for d in found if d.severity == "error" and d.code.startswith("discovery-"))
    return found, len(res.files), bool(res.invalid), [f"discovery {meta.url}: {len(res.flows)} flows compared, "
                                                f"{errors} contradictions"]


def _against(targets, paths, config, rev, base_ref, show_changes):
    try:
        res = check_against(targets, rev, show_changes=show_changes)
    except GitError as exc:
        fail(str(exc))
    if not res.files and not res.invalid:  # an empty selection is an error, never a silent success
        res.diagnostics.append(no_flows_found(paths, config))
        res.invalid = True
    label = f"the merge base with {base_ref} ({rev[:12]})" if base_ref else rev
    return res, label


def _against_summary(res, label: str) -> list[str]:
    if not res.reports:
        return []
    changed = [r for r in res.reports if r.changes]
    new = [r for r in res.reports if r.old is None]
    bad = [r for r in res.reports if not r.ok]
    return [f"against {label}: {len(changed)} changed, {len(new)} new or not comparable, "
            f"{len(res.reports) - len(changed) - len(new)} unchanged; "
            f"{len(bad)} need a version bump, changelog note or date"]


def _openapi(desc, paths, config, actors, *, with_flow_errors: bool):
    res = load_flows(paths, config)
    found, totals = check_flows(res.flows, desc, actors)
    if with_flow_errors:
        found = res.diagnostics + found
    return found, len(res.files), bool(res.invalid), list(iter_summary(desc, totals))
