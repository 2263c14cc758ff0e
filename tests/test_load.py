"""Malformed input: every case gives FILE:LINE:COL (or FILE), a code, and constructs nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from flowdoc.load import read_flow_text
from flowdoc.load.yamlsafe import MAX_BYTES

ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi")
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
