"""flowdoc diff on the command line: formats, exit codes, git revisions, errors; versions and changelogs."""

from __future__ import annotations

import datetime as dt
import json
import os
import re

import pytest

import flowdoc
from flowdoc.diff import CHANGE_KINDS
from flowdoc.diff.git import load_spec
from flowdoc.git import GitError
from flowdoc.diff.versions import changelog_entries, flow_history, versions_from_git
from flowdoc.model.version import Version
from tests.helpers import git, run
from tests.flowkit import LC, TOK, S, build, flow_text

V1 = "flows/authorization-code-pkce.v1.yaml"
V2 = "flows/authorization-code-pkce.yaml"
CC = "flows/client-credentials.yaml"


def current(path: str = V2):
    """The current example file: other work may raise its version, so tests read it rather than pin it."""
    return flowdoc.load_flow(path)


def older(path: str = V1):
    """The older example file (v1): read, not pinned, like the current one."""
    return flowdoc.load_flow(path)



@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A git repository with flows/demo.yaml in two commits (tag v1: 1.0.0, then HEAD: 2.0.0, breaking)."""
    git(tmp_path, "init", "-q")
    (tmp_path / "flows").mkdir()
    f = tmp_path / "flows" / "demo.yaml"
    (tmp_path / "README").write_text("x")
    git(tmp_path, "add", "README")
    git(tmp_path, "commit", "-q", "-m", "before the flow")
    f.write_text(flow_text())
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "v1")
    git(tmp_path, "tag", "v1")
    f.write_text(flow_text([S("version", "2.0.0"), S("updated", "2026-03-01"),
                            S("changelog", [{"version": "2.0.0", "notes": ["PUT /token."]},
                                            {"version": "1.0.0", "notes": ["First version."]}]),
                            S(f"{TOK}/request/method", "PUT"), S(f"{LC}/tokens/access_token/ttl", "10m")]))
    git(tmp_path, "commit", "-q", "-am", "v2")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ------------------------------------------------------------------ formats


def test_text_points_at_new_file_lines():
    r = run("diff", V1, V2)
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert any(re.match(rf"^{re.escape(V2)}:\d+:\d+: breaking\[param-value-changed\]: ", x) for x in lines)
    assert lines[-1].startswith(f"authorization-code-pkce {older().version} → {current().version}:") and "major" in lines[-1]
    # most severe first
    levels = [m.group(1) for x in lines if (m := re.search(r": (breaking|warning|info)\[", x))]
    assert levels == sorted(levels, key=["breaking", "warning", "info"].index)


def test_text_line_is_the_changed_element():
    r = run("diff", V1, V2)
    line = next(x for x in r.stdout.splitlines() if "param-value-changed" in x)
    n = int(line.split(":")[1])
    assert open(V2).read().splitlines()[n - 1].strip() == "response_type: code"


def test_json_parses():
    r = run("diff", V1, V2, "--format", "json")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert doc["required_bump"] == "major" and doc["highest_level"] == "breaking"
    assert doc["old"] == {"file": V1, "id": "authorization-code-pkce", "version": older().version}
    assert doc["new"]["version"] == current().version
    assert doc["counts"]["breaking"] == sum(c["level"] == "breaking" for c in doc["changes"]) > 0
    for c in doc["changes"]:
        assert {"id", "level", "message", "path", "old", "new", "file", "line", "col"} <= set(c)
        assert c["id"] in CHANGE_KINDS and c["file"] == V2 and isinstance(c["line"], int)


def test_github_annotations_have_file_and_line():
    r = run("diff", V1, V2, "--format", "github")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    errors = [x for x in lines if x.startswith("::error ")]
    assert errors and all(re.match(rf"::error file={re.escape(V2)},line=\d+,col=\d+,title=[a-z-]+::", x) for x in errors)
    assert any(x.startswith("::warning file=") for x in lines)
    assert any(x.startswith("::notice file=") for x in lines)
    assert "needs at least a major version bump" in lines[-1]


def test_markdown():
    r = run("diff", V1, V2, "--format", "markdown")
    assert r.exit_code == 0
    md = r.stdout
    assert md.startswith("## ") and f"{older().version} → {current().version}" in md
    assert "### Breaking changes" in md and "| `transition-removed` |" in md
    assert "**Needs at least a major version bump**" in md


def test_no_changes():
    r = run("diff", V2, V2, "--fail-on", "info")
    assert r.exit_code == 0 and "no semantic changes" in r.stdout
    r = run("diff", V2, V2, "--format", "json")
    assert json.loads(r.stdout)["changes"] == [] and json.loads(r.stdout)["required_bump"] is None


@pytest.mark.parametrize("level,code", [("breaking", 1), ("warning", 1), ("info", 1)])
def test_fail_on(level, code):
    assert run("diff", V1, V2, "--fail-on", level).exit_code == code


def test_fail_on_below_threshold(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(flow_text())
    b.write_text(flow_text([S("title", "Another title")]))
    assert run("diff", str(a), str(b), "--fail-on", "warning").exit_code == 0
    assert run("diff", str(a), str(b), "--fail-on", "info").exit_code == 1


def test_output_file(tmp_path):
    out = tmp_path / "changes.md"
    r = run("diff", V1, V2, "--format", "markdown", "-o", str(out))
    assert r.exit_code == 0 and r.stdout == "" and "### Breaking changes" in out.read_text()


def test_list_changes():
    r = run("diff", "--list-changes")
    assert r.exit_code == 0
    ids = [x.split("\t")[0] for x in r.stdout.splitlines()]
    assert ids == list(CHANGE_KINDS)
    doc = json.loads(run("diff", "--list-changes", "--format", "json").stdout)
    assert {d["id"] for d in doc} == set(CHANGE_KINDS)


# ------------------------------------------------------------------- errors


def test_missing_file():
    r = run("diff", "flows/nope.yaml", V2)
    assert r.exit_code == 2 and "flows/nope.yaml: no such file" in r.stderr and "Traceback" not in r.output


def test_needs_two_arguments():
    r = run("diff", V2)
    assert r.exit_code == 2 and "OLD NEW" in r.stderr


def test_invalid_flow_reports_file_line_col(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(flow_text().replace("method: POST", "method: FETCH"))
    r = run("diff", str(bad), V2)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert re.search(rf"{re.escape(str(bad))}:\d+:\d+: error\[", r.stderr)
    assert "is not a valid flow" in r.stderr


def test_invalid_flow_github_annotation(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(flow_text().replace("method: POST", "method: FETCH"))
    r = run("diff", V2, str(bad), "--format", "github")
    assert r.exit_code == 2 and re.search(r"::error file=.*bad\.yaml,line=\d+", r.stdout)


def test_bad_revision(repo):
    r = run("diff", "no-such-rev:flows/demo.yaml", "flows/demo.yaml")
    assert r.exit_code == 2 and "unknown git revision 'no-such-rev'" in r.stderr and "Traceback" not in r.output


def test_path_missing_at_revision(repo):
    r = run("diff", "HEAD~2:flows/demo.yaml", "flows/demo.yaml")
    assert r.exit_code == 2 and "'flows/demo.yaml' does not exist at revision 'HEAD~2'" in r.stderr


def test_not_a_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.yaml").write_text(flow_text())
    r = run("diff", "HEAD:x.yaml", "x.yaml")
    assert r.exit_code == 2 and "not inside a git repository" in r.stderr


def test_invalid_flow_at_revision(repo):
    f = repo / "flows" / "demo.yaml"
    f.write_text("id: demo\ntitle: [unclosed\n")
    git(repo, "commit", "-q", "-am", "broken")
    f.write_text(flow_text())
    r = run("diff", "HEAD:flows/demo.yaml", "flows/demo.yaml")
    assert r.exit_code == 2 and re.search(r"HEAD:flows/demo\.yaml:\d+:\d+: error\[", r.stderr)


def test_revision_rejects_options(repo):
    with pytest.raises(GitError):
        load_spec("--output=x:flows/demo.yaml")


# -------------------------------------------------------------------- git


def test_diff_revisions(repo):
    r = run("diff", "v1:flows/demo.yaml", "HEAD:flows/demo.yaml", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert {c["id"] for c in doc["changes"]} == {"endpoint-method-changed", "ttl-shortened"}
    assert doc["old"]["file"] == "v1:flows/demo.yaml" and doc["new"]["version"] == "2.0.0"


def test_diff_revision_against_work_tree(repo):
    r = run("diff", "HEAD~1:flows/demo.yaml", "flows/demo.yaml", "--format", "github")
    assert r.exit_code == 0
    assert re.search(r"::error file=flows/demo\.yaml,line=\d+,col=\d+,title=endpoint-method-changed::", r.stdout)


def test_revision_path_relative_to_current_folder(repo, monkeypatch):
    monkeypatch.chdir(repo / "flows")
    r = run("diff", "v1:demo.yaml", "demo.yaml")
    assert r.exit_code == 0 and "endpoint-method-changed" in r.stdout
    # git's own spelling, from the top of the work tree, works too
    r = run("diff", "v1:flows/demo.yaml", "demo.yaml")
    assert r.exit_code == 0 and "endpoint-method-changed" in r.stdout


def test_deleted_file_at_revision(repo):
    (repo / "flows" / "demo.yaml").unlink()
    r = run("diff", "v1:flows/demo.yaml", "HEAD:flows/demo.yaml")
    assert r.exit_code == 0 and "endpoint-method-changed" in r.stdout


def test_versions_from_git(repo):
    flows = versions_from_git("flows/demo.yaml", ["HEAD~2", "v1", "HEAD"])  # HEAD~2: before the file existed
    assert [f.version for f in flows] == ["1.0.0", "2.0.0"]
    assert flows[0].file == "v1:flows/demo.yaml" and flows[0].pos("version") is not None
    with pytest.raises(GitError):
        versions_from_git("flows/demo.yaml", ["v9"])


# ------------------------------------------------------- versions, changelog


def test_semver_order():
    vs = ["1.10.0", "1.2.0", "1.0.0-rc.1", "1.0.0", "1.0.0-alpha", "1.0.0-rc.10", "1.0.0-rc.2", "0.9.0"]
    assert sorted(vs, key=Version.key) == ["0.9.0", "1.0.0-alpha", "1.0.0-rc.1", "1.0.0-rc.2", "1.0.0-rc.10",
                                          "1.0.0", "1.2.0", "1.10.0"]


def test_flow_history_of_the_examples():
    flows = [flowdoc.load_flow(f"flows/{n}") for n in sorted(os.listdir("flows"))]
    hist = flow_history(flows)
    # the older files are 1.x; the current files are the newest (others may bump both)
    pairs = (("authorization-code-pkce", older(), current()),
             ("client-credentials", older("flows/client-credentials.v1.0.yaml"), current(CC)))
    for fid, old, cur in pairs:
        assert [f.version for f in hist[fid]] == [old.version, cur.version]
        assert old.version.startswith("1.") and Version.parse(cur.version) > Version.parse(old.version)
    assert all(len(v) >= 1 for v in hist.values())


def test_changelog_entries_shape_and_order():
    hist = flow_history([flowdoc.load_flow(V2), flowdoc.load_flow(V1)])["authorization-code-pkce"]
    entries = changelog_entries(hist)
    versions = [e["version"] for e in entries]
    assert versions[0] == current().version and versions[-1] == "1.0.0" and "2.0.0" in versions
    assert versions == sorted(versions, key=Version.key, reverse=True)
    for e in entries:
        assert set(e) == {"version", "date", "notes", "changes", "since"}
        assert isinstance(e["notes"], list) and all(isinstance(n, str) for n in e["notes"])
        assert e["date"] is None or isinstance(e["date"], dt.date)
        for c in e["changes"]:
            assert set(c) == {"id", "level", "message"}
    newest, oldest = entries[0], entries[-1]
    v200 = next(e for e in entries if e["version"] == "2.0.0")
    assert v200["notes"][0].startswith("PKCE (S256) is required") and v200["date"] == dt.date(2026, 11, 20)
    # the generated changes from the v1 file sit on the entry of the current file
    assert any(c["id"] == "transition-removed" and c["level"] == "breaking" for c in newest["changes"])
    assert newest["since"] == older().version and v200["since"] is None  # counted from the v1 file, not 2.0.0
    assert oldest["changes"] == [] and oldest["since"] is None and oldest["date"] == dt.date(2025, 3, 3)


def test_changelog_notes_without_a_file():
    # only the 1.1.0 file: 1.0.0 is known from its changelog notes alone
    entries = changelog_entries([current(CC)])
    assert all(e["changes"] == [] for e in entries)
    assert entries[0]["version"] == current(CC).version and entries[-1]["version"] == "1.0.0"
    assert entries[-1]["notes"] == ["First published version."] and entries[-1]["date"] == dt.date(2026, 9, 1)


def test_changelog_own_file_wins_and_updated_is_the_fallback_date():
    old = build([S("changelog", [{"version": "1.0.0", "notes": ["Old words."]}])])
    new = build([S("version", "1.1.0"), S("updated", "2026-02-02"), S(f"{LC}/tokens/access_token/ttl", "2h"),
                 S("changelog", [{"version": "1.1.0", "notes": "Longer tokens."},
                                 {"version": "1.0.0", "notes": ["Rewritten by 1.1.0."]}])])
    e110, e100 = changelog_entries([new, old])
    assert e110["notes"] == ["Longer tokens."] and e110["date"] == dt.date(2026, 2, 2)
    assert [c["id"] for c in e110["changes"]] == ["ttl-lengthened"]
    assert e100["notes"] == ["Old words."] and e100["date"] == dt.date(2026, 1, 10)
