"""Versions of the site from git history (`git_versions`, `flowdoc build --git-versions`): the pages
of tags and commits, the cache, the errors and warnings, the settings, serve and the MkDocs plugin.

Each test builds its own git repository in tmp_path; no test changes the project's repository.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flowdoc.publish import BuildSettings, PublishError, build_site, load_site
from flowdoc.publish.cache import Manifest
from tests.helpers import commit_all, git, run

ROOT = Path(__file__).resolve().parent.parent
SITE_CONFIG = ROOT / "site" / "mkdocs.yml"
MERMAID_JS = ROOT / "tests" / "node" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"

V1 = """\
id: demo
title: Fetch a token for the demo service
summary: The demo service asks the authorization server for an access token.
version: "1.0.0"
updated: 2026-01-10
status: current
changelog:
  - version: "1.0.0"
    date: 2026-01-10
    notes: First published version.
actors:
  svc: {name: Demo service, kind: client}
  auth: {name: Authorization Server, kind: authorization-server}
inputs:
  client_id: {description: Client id}
states:
  - {id: start, title: No token, initial: true}
  - {id: done, title: Token received, terminal: true}
transitions:
  - id: get_token
    from: start
    to: done
    by: svc -> auth
    title: Request a token with the client credentials grant
    request:
      method: POST
      path: /token
      form: {grant_type: client_credentials, client_id: "${inputs.client_id}"}
    response:
      status: 200
      fields: [access_token]
"""


def next_version(text: str, version: str, date: str, note: str) -> str:
    """``text`` at ``version``, with a changelog note and a later ``updated``."""
    text = re.sub(r'^version: ".*"$', f'version: "{version}"', text, count=1, flags=re.M)
    text = re.sub(r"^updated: .*$", f"updated: {date}", text, count=1, flags=re.M)
    return text.replace("changelog:\n", f'changelog:\n  - version: "{version}"\n    date: {date}\n    notes: {note}\n', 1)


# v2: the token endpoint moved (a breaking change: endpoint-path-changed)
V2 = next_version(V1, "2.0.0", "2026-03-01", "The token endpoint moved to /oauth/token.").replace(
    "path: /token", "path: /oauth/token"
)


@pytest.fixture
def repo(git_repo: Path) -> Path:
    """flows/demo.yaml at 1.0.0 (tag v1.0.0), then 2.0.0 with a breaking change (HEAD, no tag)."""
    repo = git_repo
    (repo / "flows").mkdir(parents=True)
    (repo / "flows" / "demo.yaml").write_text(V1, encoding="utf-8")
    commit_all(repo, "demo 1.0.0")
    git(repo, "tag", "v1.0.0")
    (repo / "flows" / "demo.yaml").write_text(V2, encoding="utf-8")
    commit_all(repo, "demo 2.0.0")
    return repo


def settings(repo: Path, **kw) -> BuildSettings:
    kw.setdefault("config_file", SITE_CONFIG)
    kw.setdefault("mermaid_js", str(MERMAID_JS))
    kw.setdefault("git_versions", ["v*"])
    return BuildSettings(flows_dir=repo / "flows", out_dir=repo.parent / "out" / "site", **kw)



def cli_args(repo: Path, *extra: str) -> list[str]:
    return [
        "build", "--flows", str(repo / "flows"), "--out", str(repo.parent / "out" / "site"),
        "--config-file", str(SITE_CONFIG), "--mermaid-js", str(MERMAID_JS), *extra,
    ]


# ------------------------------------------------------------------- the site


def test_build_site_publishes_versions_from_tags(repo):
    s = settings(repo)
    r = build_site(s)
    assert r.diagnostics == [] and r.flows == 1
    assert (r.pages_built, r.pages_reused, r.mkdocs_ran) == (5, 0, True)  # latest, v2, v1, changelog, index
    out = s.out_dir
    for page in ("demo/latest", "demo/v1", "demo/v2", "demo/changelog"):
        assert (out / page / "index.html").is_file(), page
    staged = s.cache_path / "docs"
    v1 = (staged / "demo/v1.md").read_text()
    v2 = (staged / "demo/v2.md").read_text()
    # v1 is the file as it stood at the tag, with the old-version banner
    assert "`version 1.0.0`" in v1 and "POST /token" in v1
    assert "/oauth/token" not in v1.split("## Changelog", 1)[0]
    assert "flowdoc-banner-older" in v1
    assert "You are reading version 1.0.0 of this flow; the latest is [2.0.0](latest.md)." in v1
    assert "flowdoc-banner" not in v2 and "/oauth/token" in v2
    html_v1 = (out / "demo/v1/index.html").read_text()
    assert 'class="flowdoc-banner flowdoc-banner-older"' in html_v1
    # the changelog: the authors' notes and the generated changes, with the breaking change ids
    changelog = (staged / "demo/changelog.md").read_text()
    assert changelog.index("## 2.0.0") < changelog.index("## 1.0.0")
    assert "The token endpoint moved to /oauth/token." in changelog
    assert "(`endpoint-path-changed`)" in changelog and "flowdoc-level-breaking" in changelog
    assert "endpoint-path-changed" in (out / "demo/changelog/index.html").read_text()
    # the version selector and the index list both majors
    assert "[v1](v1.md)" in (staged / "demo/latest.md").read_text()
    assert "[v2](demo/v2.md) · [v1](demo/v1.md)" in (staged / "index.md").read_text()


def test_without_git_versions_only_the_file_on_disk(repo):
    r = build_site(settings(repo, git_versions=[]))
    assert r.pages_built == 4  # latest, v2, changelog, index
    assert not (settings(repo).out_dir / "demo/v1").exists()


def test_cli_build_and_settings_from_pyproject(repo, monkeypatch):
    r = run(*cli_args(repo, "--git-versions", "v1.0.0", "--git-versions", "HEAD"))
    assert r.exit_code == 0, r.output + r.stderr
    out = repo.parent / "out" / "site"
    assert (out / "demo/v1/index.html").is_file() and (out / "demo/v2/index.html").is_file()
    assert "5 pages of 1 flow: 5 built, 0 reused" in r.stdout
    # [tool.flowdoc.site] git_versions: a list, or one string
    for value in ('["v*"]', '"v1.0.0"'):
        (repo / "pyproject.toml").write_text(
            f'[tool.flowdoc]\nout = "public"\n\n[tool.flowdoc.site]\nmermaid_js = "{MERMAID_JS}"\ngit_versions = {value}\n'
        )
        monkeypatch.chdir(repo)
        r = run("build")
        assert r.exit_code == 0, r.output + r.stderr
        assert (repo / "public/demo/v1/index.html").is_file()
    # the option replaces the setting
    r = run("build", "--git-versions", "no-such-tag")
    assert r.exit_code == 2 and "unknown git revision 'no-such-tag'" in r.stderr
    r = run("build", "--help")
    assert "--git-versions SPEC" in r.stdout
    assert "--git-versions SPEC" in run("serve", "--help").stdout


def test_files_on_disk_win_and_a_later_revision_wins(repo):
    # the same 1.0.0 on disk, with another title: the file on disk is published
    (repo / "flows" / "demo.v1.yaml").write_text(V1.replace("title: Fetch a token", "title: Disk copy of fetch a token"))
    site = load_site(repo / "flows", git_versions=["v1.0.0", "HEAD"])
    fv = site.entries["demo"]
    assert [f.version for f in fv.history] == ["1.0.0", "2.0.0"]
    assert fv.find("1").title.startswith("Disk copy") and not fv.find("1").file.startswith("v1.0.0:")
    (repo / "flows" / "demo.v1.yaml").unlink()
    # the same version at two revisions: the later one in the list wins
    (repo / "flows" / "demo.yaml").write_text(V1.replace("summary: The demo", "summary: Fixed - the demo"))
    commit_all(repo, "a fix of 1.0.0 without a version bump")
    git(repo, "tag", "v1.0.1")
    (repo / "flows" / "demo.yaml").write_text(V2)
    site = load_site(repo / "flows", git_versions=["v*"])
    one = site.entries["demo"].find("1.0.0")
    assert one.summary.startswith("Fixed") and one.file == "v1.0.1:flows/demo.yaml"
    site = load_site(repo / "flows", git_versions=["v1.0.1", "v1.0.0"])
    assert not site.entries["demo"].find("1.0.0").summary.startswith("Fixed")


def test_flows_gone_from_the_folder_are_not_brought_back_and_new_flows_need_no_history(repo):
    other = V1.replace("id: demo", "id: other").replace("title: Fetch a token", "title: Other flow to fetch a token")
    (repo / "flows" / "gone.yaml").write_text(other.replace("id: other", "id: gone"))
    commit_all(repo, "a flow that is deleted later")
    git(repo, "tag", "v2.0.0")
    (repo / "flows" / "gone.yaml").unlink()
    (repo / "flows" / "other.yaml").write_text(other)  # new, in no revision
    commit_all(repo, "gone is gone; other is new")
    r = build_site(settings(repo))
    assert r.diagnostics == [] and r.flows == 2
    out = settings(repo).out_dir
    assert not (out / "gone").exists()
    assert (out / "other/v1/index.html").is_file() and not (out / "other/v2").exists()
    assert (out / "demo/v1/index.html").is_file() and (out / "demo/v2/index.html").is_file()


# ---------------------------------------------------------------------- cache


def test_no_change_rebuild_reuses_everything_and_a_new_tag_rebuilds(repo):
    # 3.0.0 on disk (not committed); v1.0.0 from its tag; 2.0.0 is only in HEAD, which no spec names
    (repo / "flows" / "demo.yaml").write_text(
        next_version(V2, "3.0.0", "2026-05-01", "A new step.").replace(
            "fields: [access_token]", "fields: [access_token, expires_in]"
        )
    )
    s = settings(repo)
    first = build_site(s)
    assert (first.pages_built, first.mkdocs_ran) == (5, True)  # latest, v3, v1, changelog, index
    assert not (s.out_dir / "demo/v2").exists()
    manifest = Manifest.load(s.cache_path / "manifest.json")
    assert manifest.git

    again = build_site(s)
    assert (again.pages_built, again.pages_reused, again.mkdocs_ran) == (0, 5, False)
    assert "site unchanged (MkDocs not run)" in again.summary()

    # a new tag on the commit with 2.0.0: the flow gets a v2 page, the rest is reused
    git(repo, "tag", "v2.0.0", "HEAD")
    tagged = build_site(s)
    assert tagged.mkdocs_ran and tagged.pages_built == 6  # latest, v3, v2, v1, changelog, index
    assert (s.out_dir / "demo/v2/index.html").is_file()
    assert "`version 2.0.0`" in (s.cache_path / "docs/demo/v2.md").read_text()
    assert Manifest.load(s.cache_path / "manifest.json").git != manifest.git
    assert build_site(s).pages_built == 0

    # a tag on a commit whose flow files are already published: read again, nothing re-rendered
    git(repo, "tag", "v2.0.0-again", "HEAD")
    same = build_site(s)
    assert (same.pages_built, same.mkdocs_ran) == (0, False)

    # a moved branch named in git_versions is a new commit id in the key
    s.git_versions = ["v*", "main-line"]
    git(repo, "branch", "main-line", "v1.0.0")
    assert build_site(s).pages_built == 0  # 1.0.0 is already there (from v1.0.0)
    git(repo, "branch", "-f", "main-line", "HEAD")
    assert build_site(s).pages_built == 0
    key = Manifest.load(s.cache_path / "manifest.json").git
    git(repo, "checkout", "-q", "-b", "work")
    (repo / "flows" / "side.yaml").write_text(V1.replace("id: demo", "id: side"))
    commit_all(repo, "a side flow")
    os.remove(repo / "flows" / "side.yaml")
    git(repo, "branch", "-f", "main-line", "HEAD")
    moved = build_site(s)  # side.yaml is in main-line but not in the folder: not published
    assert Manifest.load(s.cache_path / "manifest.json").git != key
    assert moved.pages_built == 0 and not (s.out_dir / "side").exists()


# ----------------------------------------------------------- errors, warnings


def test_bad_revision_exits_2_and_keeps_the_site(repo):
    assert run(*cli_args(repo, "--git-versions", "v*")).exit_code == 0
    out = repo.parent / "out" / "site"
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    r = run(*cli_args(repo, "--git-versions", "v*", "--git-versions", "v9.9.9"))
    assert r.exit_code == 2
    assert "flowdoc: error: git_versions: unknown git revision 'v9.9.9'" in r.stderr
    assert f"the site in {out} was left as it was" in r.stderr
    assert "Traceback" not in r.output + r.stderr
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before
    r = run(*cli_args(repo, "--git-versions", "--oops"))
    assert r.exit_code == 2 and "is not a git revision or tag glob" in r.stderr
    with pytest.raises(PublishError, match="unknown git revision 'nope'"):
        load_site(repo / "flows", git_versions=["nope"])


def test_not_a_repository_and_git_missing_exit_2(repo, tmp_path, monkeypatch):
    plain = tmp_path / "plain"
    (plain / "flows").mkdir(parents=True)
    (plain / "flows" / "demo.yaml").write_text(V1)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # no repository above tmp_path either
    r = run(*cli_args(plain, "--git-versions", "v*"))
    assert r.exit_code == 2 and "is not in a git repository" in r.stderr, r.stderr
    assert "Traceback" not in r.output + r.stderr
    # without --git-versions the same folder builds
    assert run(*cli_args(plain)).exit_code == 0

    empty = tmp_path / "no-programs"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    r = run(*cli_args(repo, "--git-versions", "v*"))
    assert r.exit_code == 2 and "git is not installed" in r.stderr, r.stderr


def test_invalid_file_at_a_revision_is_a_warning(repo):
    (repo / "flows" / "demo.yaml").write_text(
        next_version(V2, "2.1.0", "2026-04-01", "Broken.").replace("method: POST", "methd: POST")
    )
    commit_all(repo, "a typo")
    git(repo, "tag", "v2.1.0")
    (repo / "flows" / "demo.yaml").write_text(next_version(V2, "2.1.1", "2026-04-02", "Fixed."))
    commit_all(repo, "fixed")
    r = run(*cli_args(repo, "--git-versions", "v*"))
    assert r.exit_code == 0, r.output + r.stderr
    assert "Traceback" not in r.output + r.stderr
    assert re.search(r"^v2\.1\.0:flows/demo\.yaml: warning\[git-version-invalid\]: not a valid flow", r.stderr, re.M)
    assert re.search(r"^v2\.1\.0:flows/demo\.yaml:\d+:\d+: warning\[unknown-key\]: unknown key 'methd'", r.stderr, re.M)
    assert "did you mean 'method'?" in r.stderr
    out = repo.parent / "out" / "site"
    assert (out / "demo/v1/index.html").is_file() and (out / "demo/v2/index.html").is_file()
    assert "2.1.1" in (out / "demo/v2/index.html").read_text()
    # a no-change rebuild shows the warning again (from the cache)
    r = run(*cli_args(repo, "--git-versions", "v*"))
    assert r.exit_code == 0 and "0 built" in r.stdout
    assert "v2.1.0:flows/demo.yaml" in r.stderr
    # -q: errors only
    assert run(*cli_args(repo, "--git-versions", "v*", "-q")).stderr == ""


def test_a_tag_glob_matching_nothing_is_a_warning(repo):
    r = build_site(settings(repo, git_versions=["release-*"]))
    assert [d.code for d in r.diagnostics] == ["git-no-tags"]
    assert "no git tag matches 'release-*'" in r.diagnostics[0].message
    assert r.pages_built == 4  # no v1: only the file on disk


def test_no_flows_folder_at_a_revision_is_a_warning(repo):
    empty_tree = subprocess.run(
        ["git", "hash-object", "-t", "tree", "--stdin"], cwd=repo, input=b"", capture_output=True, check=True
    ).stdout.decode().strip()
    git(repo, "tag", "before-flows", git(repo, "commit-tree", empty_tree, "-m", "nothing yet"))
    site = load_site(repo / "flows", git_versions=["before-flows", "v1.0.0"])
    assert [(d.file, d.code) for d in site.warnings] == [("before-flows:flows", "git-version-empty")]
    assert [f.version for f in site.entries["demo"].history] == ["1.0.0", "2.0.0"]


# ---------------------------------------------------------- serve, the plugin


def test_serve_watches_the_refs(repo):
    from flowdoc.publish.serve import PreviewServer

    s = settings(repo)
    server = PreviewServer(s, port=0, echo=lambda m: None)
    assert server.build()
    watched = {p.resolve() for p in server.watched()}
    assert (repo / ".git" / "refs").resolve() in watched and (repo / ".git" / "HEAD").resolve() in watched
    snap = server._scan()
    git(repo, "tag", "v2.0.0")
    assert server._scan() != snap  # a new tag is a change: serve rebuilds


def test_mkdocs_plugin_option(repo):
    (repo / "docs").mkdir()
    (repo / "docs" / "index.md").write_text("# Home\n\n```flowdoc\nflow: demo\nview: sequence\nversion: 1\n```\n")
    (repo / "mkdocs.yml").write_text(
        "site_name: Plugin with git versions\ntheme:\n  name: mkdocs\n  highlightjs: false\n"
        "plugins:\n  - flowdoc:\n      flows_dir: flows\n      prefix: flows\n"
        f"      mermaid_js: {MERMAID_JS}\n      git_versions: ['v*']\n"
    )
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    r = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=repo, capture_output=True, text=True, env=env,
        timeout=300, check=False,
    )
    assert r.returncode == 0, r.stderr
    site = repo / "site"
    assert (site / "flows/demo/v1/index.html").is_file() and (site / "flows/demo/v2/index.html").is_file()
    assert "flowdoc-banner-older" in (site / "flows/demo/v1/index.html").read_text()
    assert "endpoint-path-changed" in (site / "flows/demo/changelog/index.html").read_text()
    assert "POST /token" in (site / "index.html").read_text()  # the embed of version 1
