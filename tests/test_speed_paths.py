"""The fast paths give what the plain ones give: the redactor's three ways of finding secrets,
and positions read again from a flow's text only when a diagnostic asks for one."""

from __future__ import annotations

import random
import string
import pytest

import flowdoc.verify._redact as redact_module
from flowdoc.catalog import FlowSet
from flowdoc.check import validate_file
from flowdoc.diagnostics import DiagnosticList
from flowdoc.load.yamlsafe import parse_yaml
from flowdoc.verify._redact import Redactor
from tests.flowkit import S, flow_text
from tests.helpers import FLOWS

EXAMPLES = sorted(FLOWS.glob("*.yaml"))


def _secrets(rng: random.Random) -> list[str]:
    """Secrets that share prefixes, hold one another, and come in every length the paths split on."""
    alphabet = string.ascii_letters + string.digits + "-_.~+/= %«»\"'\\é"
    base = ["eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + "".join(rng.choices(alphabet, k=rng.randint(20, 300)))
            for _ in range(30)]
    out = base + [b[: rng.randint(8, len(b))] for b in base[:10]]  # prefixes of others
    out += ["".join(rng.choices(alphabet, k=rng.randint(1, 12))) for _ in range(40)]  # short ones
    out += ["".join(rng.choices(alphabet, k=rng.randint(8, 60))) for _ in range(300)]  # distinct prefixes
    return out


def _texts(rng: random.Random, secrets: list[str]) -> list[str]:
    filler = string.ascii_letters + " \n{}\":,«»"
    texts = []
    for _ in range(60):
        parts = []
        for _ in range(rng.randint(0, 8)):
            parts.append("".join(rng.choices(filler, k=rng.randint(0, 40))))
            s = rng.choice(secrets)
            parts.append(s if rng.random() < 0.8 else s[: max(1, len(s) // 2)])
        texts.append("".join(parts))
    return texts


def _redactor(secrets: list[str], *, small: int, prefixes: int) -> Redactor:
    r = Redactor()
    r.SMALL_CHARS, r.PREFIXES_IN_PATTERN = small, prefixes
    for i, s in enumerate(secrets):
        r.add(s, f"s{i % 7}", declared=True)
    return r


@pytest.mark.parametrize("seed", range(8))
def test_the_three_ways_of_finding_secrets_agree(seed):
    """One alternation, the prefix expression and the position-by-position scan redact alike,
    at every number of secrets (the paths switch as secrets are added)."""
    rng = random.Random(seed)
    secrets = _secrets(rng)
    rng.shuffle(secrets)
    texts = _texts(rng, secrets)
    for count in (1, 3, 10, 40, len(secrets)):
        chosen = secrets[:count]
        ways = [_redactor(chosen, small=10**9, prefixes=0),  # one alternation of every variant
                _redactor(chosen, small=0, prefixes=10**9),  # the prefix expression
                _redactor(chosen, small=0, prefixes=0)]  # position by position
        for text in texts:
            got = [w.redact(text) for w in ways]
            assert got[0] == got[1] == got[2], (count, text)
            for s in chosen:
                if len(s) >= 8:
                    assert s not in got[0]


def test_registering_tokens_of_one_issuer_compiles_no_expression_per_token(monkeypatch):
    """Tokens that share their first characters (JWTs of one issuer) are found through one
    expression of prefixes that is not rebuilt for each new token."""
    compiled: list[str] = []
    real_compile = redact_module.re.compile

    class CountingRe:
        def __getattr__(self, name):
            return getattr(redact_module.re_module, name)

        @staticmethod
        def compile(pattern, *args):
            compiled.append(pattern)
            return real_compile(pattern, *args)

    monkeypatch.setattr(redact_module, "re_module", redact_module.re, raising=False)
    monkeypatch.setattr(redact_module, "re", CountingRe())
    r = Redactor()
    rng = random.Random(1)
    for i in range(300):
        token = "eyJhbGciOiJSUzI1NiJ9." + "".join(rng.choices(string.ascii_letters, k=600))
        r.add(token, "access_token")
        assert r.redact(f"Bearer {token} and more") == f"Bearer «access_token#{i + 1}» and more"
    assert sum(len(p) for p in compiled) < 300 * 200, "an expression of every token was compiled for each"


def test_positions_are_read_only_for_a_diagnostic(tmp_path):
    """Valid flows (every example, validated) never read their positions again; linted, only those
    whose findings a ``lint:`` suppression keeps (for ``lint --show-suppressed``) do."""
    fs = FlowSet.from_paths([FLOWS])
    assert fs.flows and not fs.errors
    assert all(not f.source.read for f in fs.flows)
    linted = FlowSet.from_paths([FLOWS], lint=True)
    for f in linted.flows:
        suppressing = f.lint is not None or any(t.lint is not None for t in f.transitions)
        assert f.source.read == suppressing, f.id
    assert any(f.source.read for f in linted.flows) and not all(f.source.read for f in linted.flows)
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLES[0].read_text(encoding="utf-8").replace("${inputs.", "${inputs.nope_", 1), encoding="utf-8")
    flow, diags = validate_file(bad)
    assert flow is None and diags.errors
    assert all(d.line is not None for d in diags.errors), diags.errors


def test_a_flow_with_named_paths_reads_no_position_unless_a_path_is_broken():
    """Every graph check of the registry (named paths, references, requirements...) looks a position
    up for a problem only: the flowkit demo (named paths, a lifecycle, troubleshooting) stays unread."""
    fs = FlowSet.from_texts({"demo.yaml": flow_text()}, lint=True)
    assert [f.id for f in fs.flows] == ["demo"] and not fs.errors
    assert not fs.flows[0].source.read
    text = flow_text([S("paths/main/steps", ["authorize", "userinfo"])])
    (diag,) = [d for d in FlowSet.from_texts({"demo.yaml": text}).errors if d.code == "path-broken"]
    _value, eager = parse_yaml(text, DiagnosticList("t"))
    assert (diag.line, diag.col) == eager.value(("paths", 0, "steps", 1))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_positions_read_again_are_the_positions_of_the_first_read(path):
    text = path.read_text(encoding="utf-8")
    value, eager = parse_yaml(text, DiagnosticList("t"))
    value2, lazy = parse_yaml(text, DiagnosticList("t"), positions=False)
    assert value == value2 and not lazy.read
    assert lazy.values == eager.values and lazy.keys == eager.keys and lazy.read
    flow, _ = validate_file(path)
    assert flow.pos("transitions", 0, "id") == eager.value(("transitions", 0, "id"))


def _diagnostics(paths, keep: bool) -> tuple[list, list]:
    fs = FlowSet.from_paths(paths, keep_flows=keep)
    return [(d.file, d.line, d.col, d.code, d.message) for d in fs.diagnostics], fs.invalid


def test_validate_without_the_models_reports_what_validate_with_them_does(tmp_path):
    """keep_flows=False (flowdoc validate) keeps no model, yet the checks across the set (duplicates,
    requirements met, requirements broken, requirements found beside the file) say the same."""
    copy = tmp_path / "copy"
    copy.mkdir()
    for p in EXAMPLES:
        (copy / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    broken = tmp_path / "broken"
    broken.mkdir()
    rotation = (FLOWS / "silent-refresh-rotation.yaml").read_text(encoding="utf-8")
    (broken / "rotation.yaml").write_text(rotation.replace("steps.exchange_code.refresh_token",
                                                           "steps.exchange_code.no_such_capture"), encoding="utf-8")
    (broken / "pkce.yaml").write_text((FLOWS / "authorization-code-pkce.yaml").read_text(encoding="utf-8"),
                                      encoding="utf-8")
    cases = [[FLOWS], [FLOWS, copy], [broken], [broken / "rotation.yaml"],
             [FLOWS / "silent-refresh-rotation.yaml"]]
    for paths in cases:
        kept, slim = _diagnostics(paths, True), _diagnostics(paths, False)
        assert kept == slim, paths
    assert any(code == "duplicate-flow" for *_x, code, _m in _diagnostics([FLOWS, copy], False)[0])
    assert any(code == "undefined-capture" and line for _f, line, _c, code, _m in _diagnostics([broken], False)[0])


def _full_parse_policy(html: str, content: str) -> str:
    """The policy as it was made before: the whole page parsed (content excluded by comparison)."""
    from flowdoc.publish import csp

    found = csp._Found(content).scan(html)
    scripts = ["'self'", *csp._origins(found.script_urls)]
    for text in found.inline:
        if csp._hash(text) not in scripts:
            scripts.append(csp._hash(text))
    styles = ["'self'", "'unsafe-inline'", *csp._origins(found.style_urls)]
    return "; ".join(["default-src 'self'", "script-src " + " ".join(scripts), "style-src " + " ".join(styles),
                      *csp.FIXED_DIRECTIVES])


@pytest.mark.parametrize("content", [
    "<p>" + "plain text " * 100 + "</p>",
    "<p>x</p><script>alert(1)</script>" + "<p>filler</p>" * 60,
    '<script src="https://evil.example/x.js"></script><link rel="stylesheet" href="https://evil.example/s.css">'
    + "<p>filler</p>" * 60,
    "<p>var base_url = '..';</p><script>var base_url = '..';</script>" + "<p>filler</p>" * 60,
])
def test_the_policy_made_from_the_page_without_its_content_is_the_policy_of_the_whole_page(content):
    from flowdoc.publish.csp import policy_for

    html = ('<!DOCTYPE html><html><head><meta charset="utf-8"><script>var base_url = "..";</script>'
            '<script src="https://cdn.example/mermaid.js"></script>'
            '<link rel="stylesheet" href="https://fonts.example/f.css"></head><body><div role="main">'
            + content + '</div><script src="../js/theme.js"></script><script>init();</script></body></html>')
    assert policy_for(html, content) == _full_parse_policy(html, content)
    assert "evil.example" not in policy_for(html, content) and "cdn.example" in policy_for(html, content)


def test_flows_loaded_from_the_same_text_compare_equal_whether_their_positions_were_read_or_not():
    a, _ = validate_file(EXAMPLES[0])
    b, _ = validate_file(EXAMPLES[0])
    assert a == b
    b.pos("id")  # one read its positions, the other not
    assert b.source.read and not a.source.read
    assert a == b
    c, _ = validate_file(EXAMPLES[1])
    assert a != c
