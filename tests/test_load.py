"""Malformed input: every case gives FILE:LINE:COL (or FILE), a code, and constructs nothing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flowdoc.load import read_flow_text
from flowdoc.load.yamltext import MAX_BYTES
from tests.helpers import run

ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)

# (name, input, expected code, expected line, expected column); line None = whole file
CASES = [
    ("empty", "", "empty-file", None, None),
    ("only-comments", "# nothing here\n  # still nothing\n", "empty-file", None, None),
    ("binary", b"\x00\x01\x02\x03abc", "not-text", None, None),
    ("utf16", "id: x\n".encode("utf-16"), "not-text", None, None),
    ("invalid-utf8", b"id: ok\ntitle: caf\xe9\n", "encoding", 2, 11),
    ("top-list", "- id: a\n- id: b\n", "not-a-flow", 1, 1),
    ("top-scalar", "just a sentence\n", "not-a-flow", 1, 1),
    ("tab-indent", "id: x\nactors:\n\tapp: 1\n", "yaml-syntax", 3, 1),
    ("unclosed-quote", 'id: x\ntitle: "never closed\n', "yaml-syntax", 3, 1),
    ("unclosed-bracket", "id: x\ntags: [a, b\n", "yaml-syntax", 3, 1),
    ("duplicate-key", "id: x\ntitle: a\nid: y\n", "duplicate-key", 3, 1),
    ("duplicate-nested", "actors:\n  a: {name: A, kind: client, name: B}\n", "duplicate-key", 2, 30),
    ("multi-doc", "id: x\n---\nid: y\n", "yaml-multiple-documents", 2, 1),
    ("python-tag", "id: !!python/object/apply:os.system [echo hacked]\n", "yaml-tag", 1, 5),
    ("python-name-tag", "id: !!python/name:os.system\n", "yaml-tag", 1, 5),
    ("custom-tag", "id: !secret abc\n", "yaml-tag", 1, 5),
    ("binary-tag", "id: !!binary aGVsbG8=\n", "yaml-tag", 1, 5),
    ("alias-bomb", ALIAS_BOMB, "yaml-too-large", None, None),
    ("deep-nesting", "id: " + "[" * 100 + "]" * 100 + "\n", "yaml-too-deep", 1, 68),
    ("very-deep-nesting", "id: " + "[" * 100000 + "]" * 100000 + "\n", "yaml-too-deep", 1, None),
    ("deep-block", "".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v\n", "yaml-too-deep", 65, 129),
    ("yes-bool", "id: x\ntitle: t\ntags: [yes]\n", "yaml-ambiguous", 3, 8),
    ("on-bool", "id: x\ninputs:\n  a: {secret: on}\n", "yaml-ambiguous", 3, 15),
    ("octal", "id: x\ntags: [0755]\n", "yaml-ambiguous", 2, 8),
    ("trailing-zero-float", 'id: x\nversion: 1.10\n', "yaml-ambiguous", 2, 10),
    ("sexagesimal", "id: x\ntags: [1:30]\n", "yaml-ambiguous", 2, 8),
    ("complex-key", "? [a, b]\n: c\n", "yaml-key", 1, 3),
    ("unknown-alias", "id: *nothing\n", "yaml-syntax", 1, 5),
]


@pytest.mark.parametrize("name,data,code,line,col", CASES, ids=[c[0] for c in CASES])
def test_malformed_input(name, data, code, line, col):
    flow, diags = read_flow_text(data, "bad.yaml")
    assert flow is None
    found = [d for d in diags.items if d.code == code]
    assert found, f"expected {code}, got {[(d.code, d.message) for d in diags.items]}"
    d = found[0]
    assert d.file == "bad.yaml"
    if line is None:
        assert name == "alias-bomb" or d.line is None
    elif col is None:  # where libyaml itself stops depends on its version
        assert d.line == line
    else:
        assert (d.line, d.col) == (line, col), d
    assert d.message and d.severity == "error"


def test_alias_bomb_has_a_position():
    _flow, diags = read_flow_text(ALIAS_BOMB, "bomb.yaml")
    d = next(d for d in diags.items if d.code == "yaml-too-large")
    assert d.line is not None and d.line >= 5


def test_tab_error_explains_the_fix():
    _flow, diags = read_flow_text("id: x\nactors:\n\tapp: 1\n", "t.yaml")
    assert "tabs" in (diags.items[0].help or "")


def test_duplicate_key_names_first_line():
    _flow, diags = read_flow_text("id: x\ntitle: a\nid: y\n", "t.yaml")
    assert "first defined at line 1" in diags.items[0].message


def test_python_tag_is_never_constructed(tmp_path):
    marker = tmp_path / "pwned"
    text = f"id: !!python/object/apply:os.system ['touch {marker}']\n"
    read_flow_text(text, "evil.yaml")
    assert not marker.exists()


def test_too_large_file():
    data = b"a: " + b"x" * (MAX_BYTES + 10)
    _flow, diags = read_flow_text(data, "big.yaml")
    assert [d.code for d in diags.items] == ["file-too-large"]
    assert diags.items[0].line is None


def test_ten_megabyte_file_via_cli(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"id: x\ntitle: " + b"y" * (10 * 1024 * 1024) + b"\n")
    proc = subprocess.run([sys.executable, "-m", "flowdoc", "validate", str(big)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert f"{big}: error[file-too-large]" in proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout


def test_a_megabyte_of_valid_yaml_is_read(tmp_path):
    text = "id: x\ntitle: t\ntags:\n" + "".join(f"  - tag{i}\n" for i in range(60000))
    flow, diags = read_flow_text(text, "many.yaml")
    # not a valid flow (no actors...), but parsed completely: the errors are the model's
    assert {d.code for d in diags.items} == {"missing-key"}


def test_second_document_is_reported_but_first_is_checked():
    _flow, diags = read_flow_text("id: x\n---\nid: y\n", "t.yaml")
    assert diags.items[0].code == "yaml-multiple-documents"
    assert any(d.code == "missing-key" for d in diags.items)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("a: true", True),
        ("a: false", False),
        ("a: ~", None),
        ("a: 12", 12),
        ("a: 0x1f", 31),
        ("a: 0o17", 15),
        ("a: 1.5", 1.5),
        ("a: 1.0", 1.0),
        ("a: 2026-11-20", "2026-11-20"),
        ("a: '0755'", "0755"),
        ('a: "yes"', "yes"),
        ("a: !!str 12", "12"),
        ("a: !!int '12'", 12),
        ("a: 'y'", "y"),
        ("a: |\n  block\n", "block\n"),
    ],
)
def test_scalars_follow_yaml_1_2(text, expected):
    from flowdoc.diagnostics import DiagnosticList
    from flowdoc.load.yamlsafe import parse_yaml

    diags = DiagnosticList("t.yaml")
    value, _src = parse_yaml(text, diags)
    assert value == {"a": expected}
    assert type(value["a"]) is type(expected)
    assert diags.items == []


def test_positions_of_keys_and_values():
    from flowdoc.diagnostics import DiagnosticList
    from flowdoc.load.yamlsafe import parse_yaml

    value, src = parse_yaml("a:\n  b: [1, {c: 2}]\n", DiagnosticList("t"))
    assert src.value(("a", "b", 1, "c")) == (2, 14)
    assert src.key(("a", "b")) == (2, 3)
    assert src.value(("a", "b", 1, "zzz")) == (2, 10)  # falls back to the nearest ancestor


def test_unreadable_path(tmp_path):
    from flowdoc.load import read_flow

    flow, diags = read_flow(tmp_path / "missing.yaml")
    assert flow is None and diags.items[0].code == "io-error"


# ------------------------------------------------------------------ hostile input (issue 14, 16)

from tests.support.hangguard import run_guarded  # noqa: E402

# Every regex (or scanner that replaced one) in load, model, check and verify/_inputs, fed a
# long hostile string through the function that uses it. Linear code takes milliseconds for
# each; the old duration and reference regexes ran until killed, the lint title and env-file
# ones were quadratic (100,000 characters: minutes).
REGEX_AUDIT = r'''
import sys
from flowdoc.diagnostics import DiagnosticList, format_text, format_json, format_github, Diagnostic
from flowdoc.load import read_flow_text
from flowdoc.load.yamlsafe import parse_yaml
from flowdoc.model.expr import ExprError, Guard, iter_refs
from flowdoc.model.flow import parse_duration, CAPTURE_SOURCE, ROUTE
from flowdoc.model.version import Version
from flowdoc.check.lint import _VAGUE, _AUTHZ
from flowdoc.verify import parse_env_file, parse_input_args
import tempfile, os

N = 100_000
def case(name, fn, *args):
    print(name, flush=True)
    try:
        fn(*args)
    except (ValueError, KeyError, ExprError):
        pass

for s in ["${" * N, "${" + " " * N + "a", "${" + "a." * N + "!}", "$" * N + "{", "$${" * N]:
    case("iter_refs " + repr(s[:8]), lambda s: list(iter_refs(s)), s)
for s in [" " * N + "x", "1" * N, "1 " * N, " 1" * N + "x", "1d" + " " * N + "1x"]:
    case("parse_duration " + repr(s[:8]), parse_duration, s)
for s in ['"' + "\\" * N, "'" + "\\'" * N, " " * N + "!", "a." * N + "!", "(" * N, "1" * N, "a-" * N + ">"]:
    case("Guard.parse " + repr(s[:8]), Guard.parse, s)
for s in ["0" + "1" * N + "x", "1:" * N + "x", "1." + "0" * N + "x", "1" * N + ".0", "+" + "0" * N,
          "0x" + "f" * N, "1" + "_" * N + ":1x", "1e" + "1" * N + "x", "y" * N]:
    case("yaml scalar " + repr(s[:8]), lambda s: parse_yaml("a: " + s + "\n", DiagnosticList("t")), s)
for s in ["body" + ".a" * N + "!", "location.query." + "." * N + "!", "headers." + "-" * N + "."]:
    case("CAPTURE_SOURCE " + repr(s[:8]), CAPTURE_SOURCE.match, s)
for s in ["a" + " " * N + "-> b x", "a" + "-" * N + "!", "a -> b" + " " * N + "x", " " * N + "a ->" + " " * N + "!"]:
    case("ROUTE " + repr(s[:8]), ROUTE.match, s)
for s in ["request" + " " * N + "x", "send" + " " * N + "x", "?" * N + "x", " " * N + "x", "send a" + " " * N + "x"]:
    case("_VAGUE " + repr(s[:8]), _VAGUE.match, s)
for s in ["entitle" * N, "rol" * N, "a " * N]:
    case("_AUTHZ " + repr(s[:8]), _AUTHZ.search, s)
for s in ["1.0.0-" + "-" * N + "!", "1.0.0-" + "0" * N, "1" * N + ".0.0"]:
    case("Version.parse " + repr(s[:8]), Version.parse, s)
case("parse_input_args", parse_input_args, ["a" * N + "=1", "a." * N + "=1"])
d = tempfile.mkdtemp()
for i, line in enumerate(["A=a" + " " * N + "b", "export" + " " * N + "=x", " " * N + "A" + " " * N + "= b", "A" * N + "!"]):
    p = os.path.join(d, f"{i}.env")
    open(p, "w").write(line + "\n")
    case(f"parse_env_file {i}", parse_env_file, p)
msg = "\x1b]0;x\x07\r\u202e" * N
case("format diagnostics", lambda: [f([Diagnostic("f", 1, 1, "c", msg, help=msg)]) for f in (format_text, format_json, format_github)])
case("a flow of hostile values", read_flow_text, "id: x\ntitle: " + "${" * N + "\nactors: {a: {name: " + " " * N + "x}}\n")
print("all done", flush=True)
'''


def test_no_regex_backtracks_on_hostile_input(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the child's env files go there, not in the system's temp folder
    out = run_guarded(REGEX_AUDIT, timeout=120)
    assert out.strip().splitlines()[-1] == "all done"


def test_a_five_thousand_digit_number_is_an_error_with_a_position(tmp_path):
    # was: ValueError (int max str digits) out of the YAML reader
    for number in ("9" * 5000, "-" + "9" * 5000, "0x" + "f" * 5000):
        _flow, diags = read_flow_text("id: x\ntitle: t\ntags: [a]\ntimeout: " + number + "\n", "n.yaml")
        d = next(d for d in diags.items if d.code == "number-too-long")
        assert (d.line, d.col) == (4, 10) and "5,000 digits" in d.message
        assert number[-50:] not in d.message + (d.help or "")
    _flow, diags = read_flow_text("id: x\ntimeout: !!int " + "9" * 5000 + "\n", "n.yaml")
    assert [(d.code, d.line) for d in diags.items if d.code.startswith(("number", "yaml"))] == [("number-too-long", 2)]
    flow = tmp_path / "big.yaml"
    flow.write_text(Path("flows/client-credentials.yaml").read_text().replace("status: 200", "status: " + "9" * 5000, 1))
    proc = subprocess.run([sys.executable, "-m", "flowdoc", "validate", str(flow)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr
    assert re.search(rf"{re.escape(str(flow))}:\d+:\d+: error\[number-too-long\]", proc.stdout)


def test_a_hundred_digit_number_is_still_a_number():
    from flowdoc.diagnostics import DiagnosticList
    from flowdoc.load.yamlsafe import MAX_INT_DIGITS, parse_yaml

    value, _ = parse_yaml(f"a: {'9' * MAX_INT_DIGITS}\n", DiagnosticList("t"))
    assert value["a"] == int("9" * MAX_INT_DIGITS)


@pytest.mark.parametrize("word", ["y", "Y", "n", "N"])
def test_single_letter_yaml_1_1_booleans_are_reported(word):
    # was: accepted silently (and pydantic read 'Y' as true where a boolean is meant)
    text = Path("flows/client-credentials.yaml").read_text()
    text = re.sub(r"terminal: true", f"terminal: {word}", text, count=1)
    _flow, diags = read_flow_text(text, "c.yaml")
    d = next(d for d in diags.items if d.code == "yaml-ambiguous")
    assert d.severity == "error" and d.line is not None and f"'{word}' is a boolean in YAML 1.1" in d.message
    assert f'quote it ("{word}")' in d.help
    _flow, diags = read_flow_text(text.replace(f"terminal: {word}", f"terminal: '{word}'"), "c.yaml")
    assert "yaml-ambiguous" not in [d.code for d in diags.items]


SECRET = "sk-live-4f3c2b1a0987654321"


@pytest.mark.parametrize("content", [
    f"API_KEY={SECRET}\nDEBUG=1\n",
    f"# staging\nexport API_KEY={SECRET}\n",
    f"API_KEY: {SECRET}\nDEBUG: yes\nPORT: 0755\n",
    f"- {SECRET}\n- y\n",
    f'API_KEY="{SECRET}"\n',
])
def test_a_non_flow_file_is_named_without_its_content(tmp_path, content):
    # was: validate echoed the env file's first line (the top value) in its error
    env = tmp_path / "staging.env"
    env.write_text(content)
    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy("flows/client-credentials.yaml", flows / "ok.yaml")
    (flows / "secrets.yaml").symlink_to(env)
    for args in (["validate", str(flows)], ["validate", str(env)], ["lint", "--format", "json", str(flows)],
                 ["validate", "--format", "github", str(flows / "secrets.yaml")],
                 ["render", str(flows / "secrets.yaml")], ["diff", str(env), str(flows / "ok.yaml")]):
        res = run(*args)
        out = res.stdout + res.stderr
        assert res.exit_code == 2 and "not-a-flow" in out, (args, out)
        assert SECRET not in out and "API_KEY" not in out and "Traceback" not in out, (args, out)


def test_a_flow_with_a_typo_is_still_a_flow():
    _flow, diags = read_flow_text("id: x\ntitel: t\n", "t.yaml")
    assert "unknown-key" in [d.code for d in diags.items]


def test_control_characters_in_keys_are_escaped_in_every_format(tmp_path):
    # was: a key "\r\x1b]0;pwned\x07" reached the terminal as is (carriage return, terminal title)
    key = "\r\x1b]0;pwned\x07\x9b2J\u202e"
    text = Path("flows/client-credentials.yaml").read_text().replace("      method: POST", f'      "{key.encode("unicode_escape").decode()}": 1\n      method: POST', 1)
    flow = tmp_path / "ctrl.yaml"
    flow.write_text(text, encoding="utf-8")
    for fmt in ("text", "github", "json"):
        proc = subprocess.run([sys.executable, "-m", "flowdoc", "validate", "--format", fmt, str(flow)],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        for c in "\r\x1b\x07\x9b\u202e":
            assert c not in proc.stdout + proc.stderr, (fmt, proc.stdout)
        if fmt == "json":
            (d,) = [d for d in json.loads(proc.stdout) if d["code"] == "unknown-key"]
            assert key in d["message"]  # the data is exact; only its encoding is escaped
        else:
            assert "\\x1b]0;pwned\\x07" in proc.stdout


def test_no_message_quotes_more_than_a_token():
    long = "k" * 10_000
    text = f"id: x\ntitle: t\nactors: {{a: {{name: A, kind: client}}}}\n{long}: 1\nversion: {'1' * 500}.0\n"
    _flow, diags = read_flow_text(text, "t.yaml")
    assert diags.items
    for d in diags.items:
        assert len(d.message) < 300 and len(d.help or "") < 400, d


def test_size_limits_name_their_cause(monkeypatch):
    from flowdoc.load import yamlsafe

    monkeypatch.setattr(yamlsafe, "MAX_NODES", 50)
    _flow, diags = read_flow_text("tags: [" + ", ".join(["a"] * 60) + "]\n", "t.yaml")
    (d,) = [d for d in diags.items if d.code == "yaml-too-large"]
    assert "holds more than 50 values" in d.message and "alias" not in d.message
    monkeypatch.undo()
    _flow, diags = read_flow_text(ALIAS_BOMB, "bomb.yaml")
    (d,) = [d for d in diags.items if d.code == "yaml-too-large"]
    assert "aliases repeat more than 200,000 values (an alias bomb?)" in d.message


def test_a_huge_file_behind_a_symlink_is_not_read_whole(tmp_path):
    from flowdoc.load import read_flow

    huge = tmp_path / "huge.bin"
    with open(huge, "wb") as fh:  # sparse: 8 GiB on paper, nothing on disk
        fh.truncate(8 * 1024**3)
    (tmp_path / "x.yaml").symlink_to(huge)
    flow, diags = read_flow(tmp_path / "x.yaml")
    assert flow is None and [d.code for d in diags.items] == ["file-too-large"]
    assert "8192.0 MiB" in diags.items[0].message


@pytest.mark.parametrize("key", ["list", "str", "dict", "int", "none", "function-after"])
def test_an_unknown_key_named_like_a_type_is_reported_not_raised(key):
    """pydantic names union members and validators in an error's location (str, list, function-after);
    an unknown key spelt so is still the key written, at any depth."""
    flow, diags = read_flow_text(f"id: x\ntitle: t\n{key}: 1\nactors:\n  a: {{name: A, kind: client, {key}: 2}}\n",
                                 "t.yaml")
    assert flow is None
    found = sorted((d.line, d.col, d.message) for d in diags.items if d.code == "unknown-key")
    assert found == [(3, 1, f"unknown key '{key}' in the flow"), (5, 30, f"unknown key '{key}' in actors.a")]
