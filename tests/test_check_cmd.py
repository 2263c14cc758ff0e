"""flowdoc check --against REV: findings, help, exit codes and formats."""

from __future__ import annotations

import json
import re

import pytest

from flowdoc.diff.check import actual_bump, next_version
from tests.flowkit import LC, TOK, S, flow_text
from tests.helpers import git, run

CHANGELOG_2 = [{"version": "2.0.0", "notes": ["PUT /token."]}, {"version": "1.0.0", "notes": ["First version."]}]


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """flows/demo.yaml (1.0.0, updated 2026-01-10) committed; the work tree is edited by each test."""
    git(tmp_path, "init", "-q")
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "demo.yaml").write_text(flow_text())
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "v1")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def edit(repo, *edits):
    (repo / "flows" / "demo.yaml").write_text(flow_text(edits))


def codes(r):
    return [m.group(1) for m in re.finditer(r"error\[([a-z-]+)\]", r.stdout)]


def test_unchanged_passes(repo):
    r = run("check", "--against", "HEAD")
    assert r.exit_code == 0, r.output
    assert "0 changed" in r.stderr


def test_breaking_change_without_anything(repo):
    edit(repo, S(f"{TOK}/request/method", "PUT"))
    r = run("check", "--against", "HEAD")
    assert r.exit_code == 1
    assert codes(r) == ["version-not-bumped", "updated-not-moved"]
    text = (repo / "flows" / "demo.yaml").read_text().splitlines()
    m = re.search(r"^(flows/demo\.yaml):(\d+):(\d+): error\[version-not-bumped\]: (.*)$", r.stdout, re.M)
    assert m and text[int(m.group(2)) - 1].startswith("version:")
    assert "1 semantic change since HEAD (1 breaking)" in m.group(4)
    assert 'help: these changes need a major bump: version: "2.0.0"' in r.stdout
    # the change itself is listed at its line
    assert re.search(r"flows/demo\.yaml:\d+:\d+: info\[endpoint-method-changed\]: .*\(breaking\)", r.stdout)


def test_bump_too_small(repo):
    edit(repo, S(f"{TOK}/request/method", "PUT"), S("version", "1.1.0"), S("updated", "2026-02-01"),
         A_changelog("1.1.0"))
    r = run("check", "--against", "HEAD")
    assert r.exit_code == 1 and codes(r) == ["version-bump-too-small"]
    assert "need a major bump, but 1.0.0 → 1.1.0 is a minor bump" in r.stdout
    assert 'help: set version: "2.0.0"' in r.stdout


def A_changelog(version):
    return S("changelog", [{"version": version, "notes": ["Changed."]}, {"version": "1.0.0", "notes": ["First."]}])


def test_bumped_noted_dated_passes(repo):
    edit(repo, S(f"{TOK}/request/method", "PUT"), S("version", "2.0.0"), S("updated", "2026-02-01"),
         S("changelog", CHANGELOG_2))
    r = run("check", "--against", "HEAD")
    assert r.exit_code == 0, r.output
    assert "1 changed" in r.stderr and "0 need a version bump" in r.stderr


def test_missing_changelog_entry(repo):
    edit(repo, S(f"{LC}/tokens/access_token/ttl", "10m"), S("version", "1.1.0"), S("updated", "2026-02-01"))
    r = run("check", "--against", "HEAD")
    assert r.exit_code == 1 and codes(r) == ["changelog-missing"]
    assert "the changelog has no entry for version 1.1.0" in r.stdout


def test_updated_not_moved(repo):
    edit(repo, S(f"{LC}/tokens/access_token/ttl", "10m"), S("version", "1.1.0"), A_changelog("1.1.0"))
    r = run("check", "--against", "HEAD")
    assert r.exit_code == 1 and codes(r) == ["updated-not-moved"]
    assert "'updated' is still 2026-01-10; at HEAD it was 2026-01-10" in r.stdout


def test_second_release_on_the_same_day(tmp_path, monkeypatch):
    """updated is a date: a release today after one earlier today keeps it; an older date must move."""
    import datetime as dt

    today = dt.date.today().isoformat()
    git(tmp_path, "init", "-q")
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "demo.yaml").write_text(flow_text([S("updated", today)]))
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "released this morning")
    monkeypatch.chdir(tmp_path)
    edit(tmp_path, S("updated", today), S(f"{LC}/tokens/access_token/ttl", "10m"), S("version", "1.1.0"),
         A_changelog("1.1.0"))
    r = run("check", "--against", "HEAD")
    assert r.exit_code == 0, r.output
    edit(tmp_path, S("updated", "2026-01-10"), S(f"{LC}/tokens/access_token/ttl", "10m"), S("version", "1.1.0"),
         A_changelog("1.1.0"))
    r = run("check", "--against", "HEAD")
    assert r.exit_code == 1 and "updated-not-moved" in codes(r)


@pytest.mark.parametrize(
    "change,version,ok",
    [
        (S("title", "Another title"), "1.0.1", True),  # info: patch
        (S("title", "Another title"), "1.0.0", False),
        (S(f"{LC}/tokens/access_token/ttl", "10m"), "1.0.1", False),  # warning: minor
        (S(f"{LC}/tokens/access_token/ttl", "10m"), "1.1.0", True),
        (S(f"{TOK}/response/capture/expires_in", "body.expires_in"), "1.0.1", False),  # addition: minor
        (S(f"{TOK}/response/capture/expires_in", "body.expires_in"), "1.1.0", True),
    ],
)
def test_bump_levels(repo, change, version, ok):
    edit(repo, change, S("version", version), S("updated", "2026-02-01"), A_changelog(version))
    r = run("check", "--against", "HEAD")
    assert (r.exit_code == 0) is ok, r.output


def test_version_decreased(repo):
    edit(repo, S("version", "0.9.0"), A_changelog("0.9.0"), S("updated", "2026-02-01"))
    r = run("check", "--against", "HEAD")
    assert r.exit_code == 1 and codes(r) == ["version-decreased"]


def test_new_file_passes(repo):
    (repo / "flows" / "other.yaml").write_text(flow_text([S("id", "other")]))
    r = run("check", "--against", "HEAD")
    assert r.exit_code == 0 and "1 new" in r.stderr


def test_default_paths_and_explicit_file(repo):
    edit(repo, S("title", "Another title"))
    assert run("check", "--against", "HEAD").exit_code == 1
    assert run("check", "--against", "HEAD", "flows/demo.yaml").exit_code == 1


def test_bad_revision(repo):
    r = run("check", "--against", "nope")
    assert r.exit_code == 2 and "unknown git revision 'nope'" in r.stderr and "Traceback" not in r.output


def test_against_is_required(repo):
    r = run("check")
    assert r.exit_code == 2 and "--against" in r.output


def test_invalid_new_flow(repo):
    (repo / "flows" / "demo.yaml").write_text(flow_text().replace("method: POST", "method: FETCH"))
    r = run("check", "--against", "HEAD")
    assert r.exit_code == 2 and re.search(r"flows/demo\.yaml:\d+:\d+: error\[invalid-value\]", r.stdout)


def test_invalid_old_flow_is_a_warning(repo):
    (repo / "flows" / "demo.yaml").write_text("id: demo\n")
    git(repo, "commit", "-q", "-am", "broken")
    edit(repo)
    r = run("check", "--against", "HEAD")
    assert r.exit_code == 0 and "warning[old-invalid]" in r.stdout and "HEAD:flows/demo.yaml" in r.stdout


def test_json_and_github_formats(repo):
    edit(repo, S(f"{TOK}/request/method", "PUT"))
    r = run("check", "--against", "HEAD", "--format", "json")
    assert r.exit_code == 1
    diags = json.loads(r.stdout)
    found = {d["code"]: d for d in diags}
    assert found["version-not-bumped"]["severity"] == "error" and found["version-not-bumped"]["line"]
    assert "major" in found["version-not-bumped"]["help"]
    assert found["endpoint-method-changed"]["severity"] == "info"
    r = run("check", "--against", "HEAD", "--format", "github")
    assert r.exit_code == 1
    assert re.search(r"^::error file=flows/demo\.yaml,line=\d+,col=\d+,title=version-not-bumped::", r.stdout, re.M)
    assert re.search(r"^::notice file=flows/demo\.yaml,line=\d+,col=\d+,title=endpoint-method-changed::", r.stdout, re.M)


def test_no_changes_option(repo):
    edit(repo, S(f"{TOK}/request/method", "PUT"))
    r = run("check", "--against", "HEAD", "--no-changes")
    assert r.exit_code == 1 and "endpoint-method-changed" not in r.stdout and "version-not-bumped" in r.stdout


@pytest.mark.parametrize(
    "old,new,bump",
    [("1.0.0", "2.0.0", "major"), ("1.0.0", "1.1.0", "minor"), ("1.0.0", "1.0.1", "patch"),
     ("1.0.0", "1.0.0", "none"), ("1.2.0", "1.1.9", "decrease"), ("1.0.0-rc.1", "1.0.0-rc.2", "prerelease"),
     ("1.0.0-rc.1", "1.0.0", "prerelease")],
)
def test_actual_bump(old, new, bump):
    assert actual_bump(old, new) == bump


@pytest.mark.parametrize(
    "old,needed,suggest",
    [("1.4.2", "major", "2.0.0"), ("1.4.2", "minor", "1.5.0"), ("1.4.2", "patch", "1.4.3"),
     ("0.3.1", "major", "0.4.0"), ("0.3.1", "minor", "0.3.2"), ("2.0.0-rc.1", "major", "2.0.0")],
)
def test_next_version(old, needed, suggest):
    assert next_version(old, needed) == suggest


def test_zero_major_and_prerelease_rules(repo):
    (repo / "flows" / "demo.yaml").write_text(flow_text([S("version", "0.1.0"), A_changelog("0.1.0")]))
    git(repo, "commit", "-q", "-am", "0.1.0")
    edit(repo, S(f"{TOK}/request/method", "PUT"), S("version", "0.2.0"), S("updated", "2026-02-01"),
         A_changelog("0.2.0"))
    assert run("check", "--against", "HEAD").exit_code == 0  # 0.y.z: a minor bump may break
    (repo / "flows" / "demo.yaml").write_text(flow_text([S("version", "2.0.0-rc.1"), A_changelog("2.0.0-rc.1")]))
    git(repo, "commit", "-q", "-am", "rc")
    edit(repo, S(f"{TOK}/request/method", "PUT"), S("version", "2.0.0-rc.2"), S("updated", "2026-02-01"),
         A_changelog("2.0.0-rc.2"))
    assert run("check", "--against", "HEAD").exit_code == 0  # pre-releases promise nothing
