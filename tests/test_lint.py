"""Each lint rule: a failing and a passing case; configuration (disable, severity)."""

from __future__ import annotations

import json

import pytest

from flowdoc.check import RULES
from flowdoc.config import ConfigError, LintConfig, load_config
from tests.flowkit import base, diagnose


def bearer_step(f, failures=None, status=200):
    f["states"].append({"id": "mid"})
    f["transitions"][0]["to"] = "mid"
    f["transitions"].append({
        "id": "call", "from": "mid", "to": "done", "by": "app -> auth", "title": "Call the API with the token",
        "request": {"method": "GET", "path": "/me", "auth": "bearer", "token": "${steps.get_token.access_token}"},
        "response": {"status": status, "fields": ["sub"]},
        "failures": failures or [],
    })


EXPIRED = [{"id": "expired", "when": "the token expired", "response": {"status": 401, "error": "invalid_token"},
            "to": "start", "remedy": "Get a new token."}]

# rule id, mutation that triggers it, mutation of the same area that satisfies it
LINT_CASES = [
    ("arrow-complete", lambda f: f["transitions"][0]["request"].update(form=None),
     lambda f: f["transitions"][0]["request"].update(form={"grant_type": "client_credentials"})),
    ("arrow-complete", lambda f: f["transitions"][0]["response"].update(fields=[], capture={}),
     lambda f: f["transitions"][0]["response"].update(fields=["access_token"], capture={})),
    ("arrow-complete", lambda f: f["transitions"][0]["response"].update(status=302),
     lambda f: f["transitions"][0]["response"].update(status=302, redirect={"to": "/cb"})),
    ("vague-label", lambda f: f["transitions"][0].update(title="Send request"),
     lambda f: f["transitions"][0].update(title="Send the token request")),
    ("vague-label", lambda f: f["transitions"][0].update(title="get token"),
     lambda f: f["transitions"][0].update(title="Get a token for the orders API")),
    ("invalid-credentials-documented", lambda f: (f["transitions"][0].update(failures=[]), f["states"].pop()),
     lambda f: None),
    ("expired-token-documented", lambda f: bearer_step(f), lambda f: bearer_step(f, EXPIRED)),
    ("ends-at-token", lambda f: f["states"][1].pop("handoff"), lambda f: None),
    ("ends-at-token", lambda f: f["transitions"][0].update(guard="the user has the admin role"),
     lambda f: f["transitions"][0].update(guard="no cached token")),
    ("lifecycle-documented", lambda f: f.pop("lifecycle"), lambda f: None),
    ("lifecycle-documented", lambda f: f["lifecycle"].update(storage={}), lambda f: None),
    ("lifecycle-documented", lambda f: f["lifecycle"].update(reauthenticate=[]), lambda f: None),
    ("lifecycle-documented", lambda f: f["lifecycle"]["tokens"]["access_token"].pop("ttl"), lambda f: None),
    ("versioned", lambda f: f.pop("version"), lambda f: None),
    ("versioned", lambda f: f.pop("updated"), lambda f: None),
    ("versioned", lambda f: f.update(version="1.1.0"),
     lambda f: (f.update(version="1.1.0"), f["changelog"].insert(0, {"version": "1.1.0", "notes": "More."}))),
    ("deprecation-complete", lambda f: f.update(status="deprecated"),
     lambda f: f.update(status="deprecated", deprecation={"replaced_by": "other", "migration": "https://x/m"})),
    ("deprecation-complete", lambda f: f.update(deprecation={"replaced_by": "other", "migration": "m"}), lambda f: None),
    ("summary-present", lambda f: f.pop("summary"), lambda f: None),
    ("failures-documented", lambda f: (f["transitions"][0].update(failures=[]), f["states"].pop()), lambda f: None),
    ("todo-marker", lambda f: f.update(summary="TODO: say when to use this flow"), lambda f: None),
    ("polling-documented", lambda f: device_step(f, poll=False), lambda f: device_step(f, poll=True)),
    ("polling-documented", lambda f: device_step(f, poll=True, max_wait=False), lambda f: None),
    ("polling-documented", lambda f: device_step(f, poll=True, expired=False), lambda f: None),
]


def device_step(f: dict, *, poll: bool, max_wait: bool = True, expired: bool = True) -> None:
    """The base flow's token request as a device-code redemption (RFC 8628), polled or not."""
    t = f["transitions"][0]
    t["request"] = {"method": "POST", "path": "/token", "form": {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": "${inputs.client_id}",
        "client_id": "${inputs.client_id}"}}
    if poll:
        t["request"]["poll"] = {"interval": 5, **({"max_wait": "10m"} if max_wait else {})}
    t["failures"] = [{"id": "expired_token" if expired else "denied", "when": "the code expired",
                      "response": {"status": 400, "error": "expired_token" if expired else "access_denied"},
                      "to": "rejected", "remedy": "Start again."}]


@pytest.mark.parametrize("rule,bad,good", LINT_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(LINT_CASES)])
def test_rule(rule, bad, good):
    f = base()
    bad(f)
    diags = diagnose(f, lint=True)
    hits = [d for d in diags if d.code == rule]
    assert hits, [(d.code, d.message) for d in diags]
    assert all(d.line is not None and d.help for d in hits)
    assert hits[0].severity == RULES[rule].severity
    g = base()
    good(g)
    assert [d for d in diagnose(g, lint=True) if d.code == rule] == []


def test_every_rule_has_a_case_and_rationale():
    assert {c[0] for c in LINT_CASES} == set(RULES)
    assert all(cls.rationale and cls.severity in ("error", "warning", "info") for cls in RULES.values())


def test_disable_and_severity():
    from flowdoc.check import run_lint
    from flowdoc.load import read_flow_text
    from tests.flowkit import to_yaml

    f = base()
    f.pop("summary")
    f["transitions"][0]["title"] = "Send request"
    flow, diags = read_flow_text(to_yaml(f))
    run_lint(flow, diags, LintConfig(disable=["summary-present"], severity={"vague-label": "error"}))
    assert [(d.code, d.severity) for d in diags.items] == [("vague-label", "error")]


def test_config_from_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.flowdoc]\nflows = "docs/flows"\n[tool.flowdoc.lint]\ndisable = ["vague-label"]\n'
        'severity = {summary-present = "info"}\n'
    )
    cfg = load_config(tmp_path)
    # paths are resolved once, against the folder of the pyproject.toml (as mkdocs does)
    assert cfg.flows == str(tmp_path / "docs" / "flows") and cfg.lint.disable == ["vague-label"]
    assert cfg.lint.severity == {"summary-present": "info"}


@pytest.mark.parametrize(
    "toml,fragment",
    [
        ('[tool.flowdoc.lint]\ndisable = ["no-such-rule"]\n', "unknown lint rule 'no-such-rule'"),
        ('[tool.flowdoc.lint]\nseverity = {vague-label = "fatal"}\n', "lint.severity"),
        ('[tool.flowdoc]\nflow = "x"\n', "flow"),
        ("[tool.flowdoc\n", "cannot read"),
    ],
)
def test_bad_config(tmp_path, toml, fragment):
    (tmp_path / "pyproject.toml").write_text(toml)
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path)
    assert fragment in str(exc.value) and "pyproject.toml" in str(exc.value)


def test_example_flows_are_lint_clean():
    import flowdoc

    assert flowdoc.lint(["flows"]) == []


# ------------------------------------------------------------------ hostile titles (issue 16)


def test_vague_title_with_trailing_spaces_and_dot():
    for title in ("Send request .", "request  .  ", "get token."):
        f = base()
        f["transitions"][0]["title"] = title
        assert "vague-label" in [d.code for d in diagnose(f, lint=True)], title


def test_a_vague_title_of_spaces_is_checked_at_once_and_quoted_short():
    # was: '\s*\.?\s*$' backtracked quadratically (100,000 spaces then a letter: minutes)
    from tests.support.hangguard import run_guarded

    spaced, long_word = base(), base()
    spaced["transitions"][0]["title"] = "request" + " " * 100_000 + "x"  # two words: not vague
    long_word["transitions"][0]["title"] = "x" * 100_000  # one word: vague, quoted cut short
    long_word["transitions"][0]["guard"] = "entitle" * 20_000  # authorization logic, quoted cut short
    out = run_guarded(f"""
import json
from tests.flowkit import diagnose
for f in ({spaced!r}, {long_word!r}):
    print(json.dumps(sorted((d.code, len(d.message)) for d in diagnose(f, lint=True))))
""")
    first, second = (json.loads(line) for line in out.splitlines())
    assert first == []
    assert [c for c, _n in second] == ["ends-at-token", "vague-label"] and all(n < 200 for _c, n in second)
