"""flowdoc verify: run documented flows against a live server as conformance tests."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..proofs import proof_text
from ..report import Progress, failure_details, json_report, junit_xml, summary
from ..verify import MAX_REPEAT, InputError, Verifier, VerifyError, VerifyOptions, parse_input_args
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
--proof DIR writes one proof file per flow and version (FLOW@VERSION.proof.json,
redacted, stable: commit it) for `flowdoc build --proofs DIR`; it is written
when scenarios fail too, and the pages then say so.

\b
--repeat N runs the selected scenarios N times (an iteration: every scenario
once, --jobs at a time), each run with fresh captures and cookies, over the
same connection pool. The summary counts the runs and names the flaky
scenarios (passed in some iterations, failed in others: exit code 1); the
failure details show each scenario's first failure and the iterations it
failed in; a transition, branch or statement counts as proven only if it held
in every iteration where it ran.

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
@click.option("--junit", type=click.Path(dir_okay=False),
              help="Write JUnit XML (one test case per scenario; with --repeat, per scenario and iteration).")
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
@click.option("--repeat", type=click.IntRange(1, MAX_REPEAT), default=1, show_default=True, metavar="N",
              help="Run the selected scenarios N times, one iteration after another over the same connections "
                   "(a soak test): a scenario that passes in some iterations and fails in others is reported "
                   "flaky (exit code 1). Proof files come from the first iteration.")
@click.option("--max-wait", type=float, default=120.0, show_default=True,
              help="Longest wait (e.g. a token TTL) a scenario may take; longer ones are skipped.")
@click.option("--probe", is_flag=True,
              help="Also send each documented parameter and credential left out, one at a time: the server "
                   "should refuse each (see 'optional' on a request).")
@click.option("--strict", is_flag=True, help="With --probe: a parameter the server does without fails (else a warning).")
@click.option("--proof", "proof_dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Write a proof file per flow and version (FLOW@VERSION.proof.json, redacted) into DIR, "
                   "for `flowdoc build --proofs DIR`.")
@click.option("--env-name", metavar="NAME",
              help="The environment the proof files name (default: the host of the issuer or --base-url).")
@click.option("--list", "list_only", is_flag=True, help="List the scenarios and exit.")
@click.option("--quiet", "-q", is_flag=True, help="No live progress.")
def command(paths, base_url, inputs, env_file, scenarios, junit, report_json, timeout, ca_bundle,
            allow_insecure_http, all_versions, jobs, repeat, max_wait, probe, strict, proof_dir, env_name, list_only,
            quiet) -> None:
    """Verify that a server behaves as the flows document (PATHS: files or folders)."""
    if env_name is not None and not (0 < len(env_name.strip()) <= 200):
        click.echo("flowdoc: error: --env-name must name the environment (1 to 200 characters)", err=True)
        raise SystemExit(2)
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
            record=proof_dir is not None, repeat=repeat,
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
    # made after the run (and the connections closed): every secret of the run is known by then
    proofs = verifier.proofs(env_name or verifier.env_name(res.flows)) if proof_dir is not None else []
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
    for name, proof in proofs:
        write_output(proof_text(proof), str(Path(proof_dir) / name))
    if proofs:
        click.echo(f"{len(proofs)} proof file{'s' if len(proofs) != 1 else ''} written to {proof_dir}", err=True)
    raise SystemExit(result.exit_code)
