"""Model errors: unknown keys with did-you-mean, missing keys, wrong values — all with positions."""

from __future__ import annotations

import pytest

from flowdoc.model.flow import parse_duration
from tests.flowkit import base, diagnose, to_yaml
from tests.support.hangguard import run_guarded


def _one(f, code):
    diags = diagnose(f)
    hits = [d for d in diags if d.code == code]
    assert hits, [(d.code, d.message) for d in diags]
    return hits[0]


@pytest.mark.parametrize(
    "where,key,suggestion",
    [
        (lambda f: f["transitions"][0]["request"], "methd", "method"),
        (lambda f: f["transitions"][0], "gaurd", "guard"),
        (lambda f: f, "summmary", "summary"),
        (lambda f: f["transitions"][0]["failures"][0], "remedyy", "remedy"),
        (lambda f: f["lifecycle"]["tokens"]["access_token"], "tll", "ttl"),
        (lambda f: f["actors"]["app"], "base_ur", "base_url"),
    ],
)
def test_unknown_key_did_you_mean(where, key, suggestion):
    f = base()
    where(f)[key] = "x"
    d = _one(f, "unknown-key")
    assert key in d.message
    assert d.help == f"did you mean '{suggestion}'?"
    assert d.line is not None


def test_unknown_key_position_is_the_key():
    text = to_yaml(base()).replace("    method: POST\n", "    method: POST\n    methd: POST\n")
    d = _one(text, "unknown-key")
    line = text.splitlines().index("    methd: POST") + 1
    assert (d.line, d.col) == (line, 5)


def test_missing_key_names_parent():
    f = base()
    del f["transitions"][0]["title"]
    d = _one(f, "missing-key")
    assert "transitions[0] needs 'title'" in d.message
    assert d.help  # the field's description says what to write


def test_enum_did_you_mean():
    f = base()
    f["status"] = "curent"
    d = _one(f, "invalid-value")
    assert d.help == "did you mean 'current'?"


def test_unquoted_version_number():
    text = to_yaml(base()).replace("version: 1.0.0", "version: 1.0")
    d = _one(text, "invalid-value")
    assert "version" in d.message and '"' in d.help


def test_bad_route():
    f = base()
    f["transitions"][0]["by"] = "app to auth"
    d = _one(f, "invalid-value")
    assert "sender -> receiver" in d.help


@pytest.mark.parametrize(
    "mutate,fragment",
    [
        (lambda f: f["transitions"][0]["request"].update(json={"a": 1}), "either 'form' or 'json'"),
        (lambda f: f["transitions"][0]["request"].update(auth="bearer"), "auth: bearer needs 'token'"),
        (lambda f: f["transitions"][0].pop("response"), "needs the expected 'response'"),
        (lambda f: f["transitions"][0].update(action="think"), "not both"),
        (lambda f: f["transitions"][0]["request"].update(method="GET"), "has no body"),
        (lambda f: f["transitions"][0]["request"].update(path="token"), "starts with '/'"),
        (lambda f: f["transitions"][0]["response"].update(status=99), "greater than or equal to 100"),
        (lambda f: f["transitions"][0]["response"]["capture"].update(x="nowhere.y"), "is not a source"),
        (lambda f: f["transitions"][0]["response"]["capture"].update(body="body.x"), "reserved"),
        (lambda f: f["lifecycle"]["tokens"]["access_token"].update(ttl="soon"), "not a duration"),
        (lambda f: f["transitions"][0].update(guard={"text": "x", "expr": "a == "}), "guard"),
        (lambda f: f.update(updated="20 Nov 2026"), None),
        (lambda f: f.update(generate={"otp": {"kind": "totp"}}), "needs 'secret'"),
        (lambda f: f["transitions"][0]["failures"][0]["response"].pop("status"), "needs 'status'"),
        (lambda f: f["changelog"][0].update(notes=[]), None),
    ],
)
def test_invalid_values(mutate, fragment):
    f = base()
    mutate(f)
    diags = [d for d in diagnose(f) if d.severity == "error"]
    assert diags, "expected an error"
    assert all(d.line is not None for d in diags)
    if fragment:
        assert any(fragment in d.message or fragment in (d.help or "") for d in diags), [d.message for d in diags]


@pytest.mark.parametrize(
    "value,seconds",
    [(90, 90), ("90s", 90), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("30d", 2592000), ("2d 3h", 183600)],
)
def test_durations(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["soon", "", "-5", True, 1.5, "10ms"])
def test_bad_durations(value):
    with pytest.raises(ValueError):
        parse_duration(value)


def test_shorthands_are_normalised():
    from flowdoc.load import read_flow_text

    f = base()
    f["transitions"][0]["guard"] = "no cached token"
    f["changelog"][0]["notes"] = "One note."
    flow, diags = read_flow_text(to_yaml(f))
    assert diags.items == []
    t = flow.transitions[0]
    assert t.guard.text == "no cached token" and t.guard.expr is None
    assert flow.changelog[0].notes == ["One note."]
    assert t.response.capture["access_token"].source == "body.access_token"
    assert t.response.capture["access_token"].secret is True
    assert flow.inputs["client_secret"].env_var == "FLOWDOC_CLIENT_SECRET"
    assert (t.sender, t.receiver) == ("app", "auth")


def test_env_var_override():
    from flowdoc.load import read_flow_text

    f = base()
    f["inputs"]["client_secret"]["env"] = "SVC_SECRET"
    flow, _ = read_flow_text(to_yaml(f))
    assert flow.inputs["client_secret"].env_var == "SVC_SECRET"
    assert flow.inputs["client_id"].env_var == "FLOWDOC_CLIENT_ID"


def test_happy_path_derived_and_declared():
    from flowdoc import load_flow

    flow = load_flow("flows/authorization-code-pkce.yaml")
    ids = [t.id for t in flow.happy_path()]
    assert ids[0] == "start" and ids[-1] == "exchange_code"
    refresh = load_flow("flows/silent-refresh-rotation.yaml")
    assert [t.id for t in refresh.happy_path()] == ["call_orders", "call_profile", "refresh", "retry_call"]


def test_load_flow_raises_with_every_diagnostic(tmp_path):
    import flowdoc

    f = base()
    f["transitions"][0]["to"] = "nowhere"
    f["transitions"][0]["by"] = "x -> auth"
    p = tmp_path / "f.yaml"
    p.write_text(to_yaml(f))
    with pytest.raises(flowdoc.FlowError) as exc:
        flowdoc.load_flow(p)
    assert {d.code for d in exc.value.diagnostics} == {"undefined-state", "undefined-actor"}
    assert str(p) in str(exc.value)


def test_version_order_is_semver():
    from flowdoc import Version

    ordered = [None, "0.9.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0",
               "2.0.0"]
    assert sorted(reversed(ordered), key=Version.key) == ordered


def test_latest_versions_and_parallel_groups():
    from types import SimpleNamespace as NS

    from flowdoc.model.flow import latest_versions, parallel_groups

    flows = [NS(id="a", version="1.0.0"), NS(id="b", version="1.0.0"), NS(id="a", version="1.10.0"),
             NS(id="a", version="1.9.0")]
    assert [(f.id, f.version) for f in latest_versions(flows)] == [("a", "1.10.0"), ("b", "1.0.0")]
    route = [NS(id="x", parallel=None), NS(id="p1", parallel="g"), NS(id="p2", parallel="g"), NS(id="y", parallel=None),
             NS(id="q", parallel="h")]
    assert [[t.id for t in g] for g in parallel_groups(route)] == [["x"], ["p1", "p2"], ["y"], ["q"]]


# ------------------------------------------------------------------ hostile input (issue 14, 16)


@pytest.mark.parametrize("value,seconds", [(" 1d 2h 3m 4s ", 93784), ("1 h", 3600), ("5m\t", 300), ("0s", 0)])
def test_more_durations(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["1h1d", "1m1m", "1", "5 ms", "h", "1x", "1d2", "٣s", "1.5h", "9" * 5000 + "s"])
def test_more_bad_durations(value):
    with pytest.raises(ValueError):
        parse_duration(value)


def test_a_ttl_of_spaces_then_a_letter_is_an_error_at_once():
    # was: catastrophic backtracking in the duration regex (100 spaces: 6.4 s, 200: killed)
    f = base()
    f["lifecycle"]["tokens"]["access_token"]["ttl"] = " " * 200 + "x"
    out = run_guarded(f"""
from flowdoc.model.flow import parse_duration
from tests.flowkit import diagnose
for spaces in (200, 100_000):
    try:
        parse_duration(" " * spaces + "x")
    except ValueError as exc:
        print(len(str(exc)))
for d in diagnose({f!r}):
    print(d.code, d.line, d.message[:40])
""")
    lines = out.splitlines()
    assert all(int(n) < 200 for n in lines[:2])  # the value is quoted cut short
    assert any(line.startswith("invalid-value ") and "ttl" in line for line in lines[2:]), out


def test_a_five_thousand_digit_version_is_an_error():
    # was: a traceback from int() in `flowdoc check`, which compares version numbers
    f = base()
    f["version"] = "1" + "0" * 5000 + ".0.0"
    assert "invalid-value" in [d.code for d in diagnose(f)]


def test_version_order_of_long_numbers_without_int():
    from flowdoc import Version

    assert Version.parse("1.0.0-" + "9" * 5000) > Version.parse("1.0.0-" + "9" * 4999)
    assert Version.parse("1.0.0-rc.010") == Version.parse("1.0.0-rc.10")
    assert Version.parse("10.0.0") > Version.parse("9.99.99")
    assert Version.parse("9" * 5000 + ".0.0") > Version.parse("9" * 4999 + ".9.9")
