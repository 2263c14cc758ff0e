"""The mutation suite: every realistic documentation mistake of tests/mutations.py is caught.

Each row edits one example flow; flowdoc then either rejects the flow (validate: an error with
FILE:LINE:COL, so verify exits 2 before sending anything) or verify exits 1 naming the step and
the difference. The rows run against the real test server (one per session, short TTLs), each
with only the scenarios it touches, several at a time. The unmutated flows pass the same
scenarios (the baseline), so a kill is the mutation's doing; the edits no server can show are
listed as out of scope and are unobservable in the baseline's coverage.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from flowdoc import FlowSet
from flowdoc.verify import RunResult, Verifier, VerifyOptions
from tests.mutations import MUTATIONS, OUT_OF_SCOPE, Mutation
from tests.support.verify_inputs import verify_inputs

pytestmark = pytest.mark.node

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"
EXAMPLES = ["authorization-code-pkce", "client-credentials", "gateway-login", "mfa-step-up", "silent-refresh-rotation"]


@dataclass
class Outcome:
    mutation: Mutation | None
    invalid: list = field(default_factory=list)  # diagnostics (validate)
    result: RunResult | None = None

    @property
    def failures(self) -> list[tuple[str, str]]:
        """(step, all the text of the failure) of each failed scenario."""
        out = []
        for s in self.result.scenarios if self.result else []:
            if s.status == "failed" and s.failure is not None:
                f = s.failure
                text = "\n".join([f.message] + [f"{c.what}: expected {c.expected}, got {c.actual}" for c in f.checks])
                out.append((f.step, text))
        return out


def _options(srv, scenarios: list[str], probe: bool) -> VerifyOptions:
    cli, env_text = verify_inputs(srv)
    inputs = dict(a.split("=", 1) for a in cli[1::2])
    env = dict(line.split("=", 1) for line in env_text.splitlines() if "=" in line and not line.startswith("#"))
    return VerifyOptions(inputs=inputs, env=env, scenarios=scenarios, jobs=4, timeout=10, probe=probe, strict=probe)


def _run(srv, folder: Path, m: Mutation | None, scenarios: list[str]) -> Outcome:
    folder.mkdir()
    for name in EXAMPLES:
        shutil.copy(FLOWS / f"{name}.yaml", folder / f"{name}.yaml")
    if m is not None:
        path = folder / f"{m.flow}.yaml"
        text = path.read_text()
        for old, new in ((m.old, m.new), *m.extra):
            assert text.count(old) == 1, (m.id, old)
            text = text.replace(old, new)
        path.write_text(text)
    res = FlowSet.from_paths([folder])
    if res.invalid:
        return Outcome(m, invalid=[d for d in res.errors])
    with Verifier(_options(srv, scenarios, bool(m and m.probe))) as v:
        return Outcome(m, result=v.run(res.flows))


@pytest.fixture(scope="module")
def outcomes(oidc_server_verify, tmp_path_factory):
    """Every mutation, and the baseline (the unmutated flows, every scenario a mutation runs but the probes)."""
    srv = oidc_server_verify
    base = tmp_path_factory.mktemp("mutations")
    touched = sorted({f"{m.flow}/{s}" for m in MUTATIONS for s in m.scenarios if not m.probe})
    jobs = [(None, "baseline", touched)] + [(m, m.id, [f"{m.flow}/{s}" for s in m.scenarios]) for m in MUTATIONS]
    with ThreadPoolExecutor(6) as pool:
        done = list(pool.map(lambda job: _run(srv, base / job[1], job[0], job[2]), jobs))
    return {job[1]: out for job, out in zip(jobs, done, strict=True)}


def test_the_table_is_large_and_says_why_each_edit_is_wrong():
    assert len(MUTATIONS) >= 60
    assert len({m.id for m in MUTATIONS}) == len(MUTATIONS)
    for m in MUTATIONS:
        text = (FLOWS / f"{m.flow}.yaml").read_text()
        assert text.count(m.old) == 1, m.id  # the edit applies to the flow as it is
        assert m.claims and m.wrong and m.scenarios, m.id
        assert (m.step and m.shows) if m.stage == "verify" else m.code, m.id
    assert {m.flow for m in MUTATIONS} == set(EXAMPLES)
    assert all(o.edit and o.reason for o in OUT_OF_SCOPE)


def test_the_unmutated_flows_pass_every_scenario_the_mutations_run(outcomes):
    base = outcomes["baseline"]
    assert base.invalid == []
    assert base.result.exit_code == 0, [(s.id, s.failure and s.failure.summary()) for s in base.result.scenarios
                                        if s.status != "passed"]


@pytest.mark.parametrize("m", MUTATIONS, ids=[m.id for m in MUTATIONS])
def test_mutation_is_killed(outcomes, m):
    out = outcomes[m.id]
    if m.stage == "validate":
        found = [(d.code, d.line, d.col) for d in out.invalid if d.file.endswith(f"{m.flow}.yaml")]
        assert any(code == m.code and line and col for code, line, col in found), (found, out.failures)
        return
    assert out.invalid == [], [d.message for d in out.invalid]
    assert out.result.exit_code == 1, f"{m.id} passed as proven: {m.claims}"
    hits = [(step, text) for step, text in out.failures if step == m.step and m.shows in text]
    assert hits, out.failures


def test_out_of_scope_edits_are_unobservable_in_the_coverage(outcomes):
    base = outcomes["baseline"].result
    results = {(fr.id, e.id): e for fr in base.flows for e in fr.coverage.elements}
    for o in OUT_OF_SCOPE:
        for flow, statement in o.statements:
            e = results.get((flow, statement))
            assert e is not None and e.result == "unobservable" and e.reason, (o.edit, flow, statement)


def test_mutation_score(outcomes, capsys):
    """killed/total, per class (shown with -s; every observable mutation must be killed)."""
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for m in MUTATIONS:
        out = outcomes[m.id]
        killed = (any(d.code == m.code for d in out.invalid) if m.stage == "validate"
                  else out.result is not None and out.result.exit_code == 1
                  and any(step == m.step and m.shows in text for step, text in out.failures))
        per[m.cls][0] += killed
        per[m.cls][1] += 1
    total = [sum(v[0] for v in per.values()), sum(v[1] for v in per.values())]
    with capsys.disabled():
        print(f"\nmutation score: {total[0]}/{total[1]} killed "
              f"({sum(m.stage == 'validate' for m in MUTATIONS)} by validate, the others by verify); "
              f"{len(OUT_OF_SCOPE)} out of scope")
        for cls, (k, n) in sorted(per.items()):
            print(f"  {cls:<28} {k}/{n}")
    assert total[0] == total[1]
