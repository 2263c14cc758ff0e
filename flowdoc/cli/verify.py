"""flowdoc verify: run documented flows against a live server as conformance tests."""

from __future__ import annotations

import sys

import click

from ..report import Progress, failure_details, json_report, junit_xml, summary
from ..verify import InputError, Verifier, VerifyError, VerifyOptions, parse_input_args
from ._common import config_or_exit, emit, flow_folders, load_flows, use_color, write_output

EPILOG = """\b
An input's value comes from, in order: --input NAME=VALUE, its environment
variable (FLOWDOC_<NAME> unless the flow names another), --env-file (same
variable names), its default. Prefer the environment or an env file for secrets.

\b
Scenarios: the happy path of each flow, and one per failure branch. Ids are
FLOW/NAME (see --list); --scenario takes an id, a scenario name or a flow id.

\b
A request with `endpoint: token_endpoint` (or another metadata name) goes to
the URL the receiver's discovery document names, read once per run; where
that document contradicts a flow (grant types, response types, PKCE methods,
client authentication, scopes, signing algorithms), a warning names the
flow's FILE:LINE:COL.

\b
TLS is verified. A server certificate that is not trusted (pass its CA with
--ca-bundle), names another host, or has expired stops the scenario before
anything is sent, with exit code 3 and a message naming the problem.

\b
Exit codes: 0 all passed, 1 a conformance failure, 2 invalid flow, a report
file that cannot be written or usage error, 3 server unreachable or its TLS
certificate rejected."""


@click.command(epilog=EPILOG)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--base-url", metavar="URL", help="Base URL for actors that have no base_url of their own.")
@click.option("--input", "inputs", multiple=True, metavar="NAME=VALUE", help="An input value (repeatable).")
@click.option("--env-file", type=click.Path(dir_okay=False), help="NAME=VALUE lines with the inputs' variables.")
@click.option("--scenario", "scenarios", multiple=True, metavar="ID", help="Run only these scenarios (repeatable).")
@click.option("--junit", type=click.Path(dir_okay=False), help="Write JUnit XML (one test case per scenario).")
@click.option("--report-json", type=click.Path(dir_okay=False), help="Write the full result with coverage as JSON.")
@click.option("--timeout", type=float, default=10.0, show_default=True,
              help="Seconds for each whole exchange: connecting, headers, body and followed redirects.")
@click.option("--ca-bundle", type=click.Path(dir_okay=False),
              help="CA certificates (PEM) to verify TLS with, instead of the default ones.")
@click.option("--allow-insecure-http", is_flag=True,
              help="Allow credentials over plain http to hosts other than loopback (test servers only).")
@click.option("--all-versions", is_flag=True, help="Verify every version of a flow, not only the latest.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Scenarios run at the same time.")
@click.option("--max-wait", type=float, default=120.0, show_default=True,
              help="Longest wait (e.g. a token TTL) a scenario may take; longer ones are skipped.")
@click.option("--probe", is_flag=True,
              help="Also send each documented parameter and credential left out, one at a time: the server "
                   "should refuse each (see 'optional' on a request).")
@click.option("--strict", is_flag=True, help="With --probe: a parameter the server does without fails (else a warning).")
@click.option("--list", "list_only", is_flag=True, help="List the scenarios and exit.")
@click.option("--quiet", "-q", is_flag=True, help="No live progress.")
def command(paths, base_url, inputs, env_file, scenarios, junit, report_json, timeout, ca_bundle,
            allow_insecure_http, all_versions, jobs, max_wait, probe, strict, list_only, quiet) -> None:
    """Verify that a server behaves as the flows document (PATHS: files or folders)."""
    config = config_or_exit()
    res = load_flows(paths, config)
    if res.invalid:
        emit(res.diagnostics, "text", len(res.files))
        raise SystemExit(2)
    try:
        values = parse_input_args(inputs)
        options = VerifyOptions(
            base_url=base_url, inputs=values, env_file=env_file, scenarios=list(scenarios), timeout=timeout,
            ca_bundle=ca_bundle, allow_insecure_http=allow_insecure_http, all_versions=all_versions, jobs=jobs,
            max_wait=max_wait, probe=probe, strict=strict, flow_folders=flow_folders(config),
        )
        with Verifier(options) as verifier:
            plan = verifier.plan(res)  # requirements found where validate found them
            if list_only:
                for s in plan:
                    click.echo(f"{s.id}\t{s.kind}\t{s.title}")
                raise SystemExit(0)
            for w in verifier.warnings(res.flows):
                click.echo(f"flowdoc: warning: {w}", err=True)
            progress = None if quiet else Progress(sys.stderr, use_color(sys.stderr), verifier.redactor.redact)
            result = verifier.run(res, on_event=progress, scenarios=plan)
            for w in verifier.discovery_findings():
                click.echo(f"flowdoc: warning: discovery contradicts the flow: {w}", err=True)
    except (VerifyError, InputError) as exc:
        click.echo(f"flowdoc: error: {exc}", err=True)
        raise SystemExit(2) from None
    color = use_color(sys.stdout)
    click.echo("")
    click.echo(summary(result, color), nl=False)
    details = failure_details(result, color)
    if details:
        click.echo("")
        click.echo(details, nl=False)
    if junit:
        write_output(junit_xml(result), junit)
    if report_json:
        write_output(json_report(result), report_json)
    raise SystemExit(result.exit_code)
