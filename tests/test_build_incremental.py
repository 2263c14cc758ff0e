"""flowdoc build reads, checks and renders only what changed: the flow records of the build cache
(flowdoc.publish.flowrecs). Each test changes a cached catalogue the way a user does and compares
with what a build from nothing (or the full check of flowdoc validate) gives."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from flowdoc import FlowSet
from flowdoc.diagnostics import Diagnostic
from flowdoc.publish import BuildSettings, PublishError, build_site, flowread
from tests.helpers import FLOWS, MERMAID_JS, SITE_CONFIG, commit_all, copy_flows, git, leftovers, snapshot

N_FILES = len(list(FLOWS.glob("*.yaml")))


def settings(tmp_path: Path, flows: Path, name: str = "site", **kw) -> BuildSettings:
    kw.setdefault("config_file", SITE_CONFIG)
    kw.setdefault("mermaid_js", str(MERMAID_JS))
    return BuildSettings(flows_dir=flows, out_dir=tmp_path / "out" / name, **kw)


def retitle(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert f"title: {old}" in text
    path.write_text(text.replace(f"title: {old}", f"title: {new}", 1), encoding="utf-8")


def full_check_errors(flows: Path) -> list[str]:
    """What flowdoc validate reports for the folder (every file read and checked)."""
    errors = sorted(FlowSet.from_paths([flows]).errors, key=Diagnostic.sort_key)
    return [f"{d.location}: {d.code}: {d.message}" for d in errors]


def build_errors(s: BuildSettings) -> list[str]:
    with pytest.raises(PublishError) as exc:
        build_site(s)
    return [f"{d.location}: {d.code}: {d.message}" for d in exc.value.diagnostics]


def assert_same_as_clean_build(tmp_path: Path, s: BuildSettings) -> None:
    """The staged pages and the site equal those of a build from nothing."""
    clean = settings(tmp_path, Path(s.flows_dir), "clean", cache_dir=tmp_path / "clean-cache", force=True,
                     templates_dir=s.templates_dir, prefix=s.prefix, config_file=s.config_file)
    build_site(clean)
    assert snapshot(s.cache_path / "docs") == snapshot(clean.cache_path / "docs")
    assert site_files(s.out_dir) == site_files(clean.out_dir)
    shutil.rmtree(clean.out_dir)


def site_files(out: Path) -> dict[str, bytes]:
    """The site's files, without the time of the build MkDocs writes in a comment."""
    return {k: re.sub(rb"Build Date UTC : [^\n]*", b"", v) for k, v in snapshot(out).items()}


def test_one_flow_changed_is_the_only_one_checked_and_rendered(tmp_path):
    flows = copy_flows(tmp_path / "flows")
    s = settings(tmp_path, flows)
    first = build_site(s)
    assert (first.flows_checked, first.flows_rendered) == (N_FILES, first.flows)
    retitle(flows / "device-authorization.yaml", "Sign in on a TV", "Sign in on a smart TV")
    one = build_site(s)
    assert (one.flows_checked, one.flows_rendered) == (1, 1)
    assert one.pages_built == 4  # its latest, v1 and changelog pages, and the index
    index = (s.cache_path / "docs" / "index.md").read_text(encoding="utf-8")
    assert "Sign in on a smart TV" in index and "Sign in on a TV or console" not in index
    assert "Sign in on a smart TV" in (s.out_dir / "index.html").read_text(encoding="utf-8")
    assert_same_as_clean_build(tmp_path, s)


def test_error_in_one_file_of_a_cached_catalogue_names_its_place_and_keeps_the_site(tmp_path):
    flows = copy_flows(tmp_path / "flows")
    s = settings(tmp_path, flows)
    build_site(s)
    before = snapshot(s.out_dir)
    f = flows / "client-credentials.yaml"
    text = f.read_text(encoding="utf-8")
    assert "to: token_cached" in text
    f.write_text(text.replace("to: token_cached", "to: token_cachd", 1), encoding="utf-8")
    errors = build_errors(s)
    assert errors == full_check_errors(flows)
    assert re.match(rf"{re.escape(str(f))}:\d+:\d+: undefined-state: ", errors[0]), errors
    assert snapshot(s.out_dir) == before and leftovers(s.out_dir) == []
    f.write_text(text, encoding="utf-8")  # undone: the cache still holds
    again = build_site(s)
    assert (again.flows_checked, again.pages_built, again.mkdocs_ran) == (0, 0, False)
    f.write_text(text.replace("to: token_cached", "to: no_token", 1), encoding="utf-8")
    assert build_errors(s) == full_check_errors(flows) != []
    f.write_text(text + "\n", encoding="utf-8")  # fixed otherwise: the files of its id are read again
    again = build_site(s)
    assert (again.flows_checked, again.flows_rendered) == (2, 1)  # client-credentials.v1.0.yaml too


def test_duplicate_id_in_a_changed_file_is_caught_though_the_other_file_is_cached(tmp_path):
    flows = copy_flows(tmp_path / "flows")
    s = settings(tmp_path, flows)
    build_site(s)
    before = snapshot(s.out_dir)
    # the new file comes first: the full check reports the duplicate on the cached file, at its id
    shutil.copy(flows / "gateway-login.yaml", flows / "a-copy.yaml")
    errors = build_errors(s)
    assert errors == full_check_errors(flows)
    assert len(errors) == 1 and errors[0].startswith(f"{flows / 'gateway-login.yaml'}:2:5: duplicate-flow: ")
    assert f"also defined in {flows / 'a-copy.yaml'}" in errors[0]
    assert snapshot(s.out_dir) == before
    (flows / "a-copy.yaml").unlink()
    # an id changed to one a cached file has
    f = flows / "mfa-step-up.yaml"
    text = f.read_text(encoding="utf-8")
    f.write_text(text.replace("id: mfa-step-up", "id: device-authorization", 1)
                 .replace('version: "3.0.0"', 'version: "1.0.0"', 1), encoding="utf-8")
    errors = build_errors(s)
    assert errors == full_check_errors(flows) and "duplicate-flow" in errors[0]
    assert snapshot(s.out_dir) == before


def test_a_change_that_breaks_a_cached_requirement_is_caught(tmp_path):
    flows = copy_flows(tmp_path / "flows")
    s = settings(tmp_path, flows)
    build_site(s)
    f = flows / "authorization-code-pkce.yaml"
    text = f.read_text(encoding="utf-8")
    f.write_text(text.replace("exchange_code", "redeem_code"), encoding="utf-8")
    errors = build_errors(s)
    assert errors == full_check_errors(flows)
    assert errors[0].startswith(f"{flows / 'silent-refresh-rotation.yaml'}:") and "undefined-step" in errors[0]
    # the required flow removed (both its files): the requirer names it
    f.unlink()
    (flows / "authorization-code-pkce.v1.yaml").unlink()
    errors = build_errors(s)
    assert errors == full_check_errors(flows) and "undefined-flow" in errors[0]


def test_removed_flow_leaves_the_index_and_its_pages_go(tmp_path):
    flows = copy_flows(tmp_path / "flows")
    s = settings(tmp_path, flows)
    build_site(s)
    (flows / "token-introspection-revocation.yaml").unlink()
    r = build_site(s)
    assert (r.flows_checked, r.flows_rendered, r.pages_built) == (0, 0, 1)
    assert "token-introspection-revocation" not in (s.cache_path / "docs" / "index.md").read_text()
    assert not (s.cache_path / "docs" / "token-introspection-revocation").exists()
    assert not (s.out_dir / "token-introspection-revocation").exists()
    assert_same_as_clean_build(tmp_path, s)


def test_new_version_file_checks_the_files_of_its_id(tmp_path):
    flows = copy_flows(tmp_path / "flows")
    s = settings(tmp_path, flows)
    build_site(s)
    text = (flows / "device-authorization.yaml").read_text(encoding="utf-8")
    (flows / "device-authorization.v2.yaml").write_text(text.replace('version: "1.0.0"', 'version: "2.0.0"', 1))
    r = build_site(s)
    assert (r.flows_checked, r.flows_rendered) == (2, 1)
    assert (s.cache_path / "docs" / "device-authorization" / "v2.md").is_file()
    assert_same_as_clean_build(tmp_path, s)


def test_retitled_replacement_re_renders_the_deprecated_flow(tmp_path):
    flows = copy_flows(tmp_path / "flows")
    f = flows / "gateway-login.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace(
        "\nstatus: current\n",
        "\nstatus: deprecated\ndeprecation:\n  replaced_by: device-authorization\n  migration: Use the device flow.\n",
        1), encoding="utf-8")
    s = settings(tmp_path, flows)
    build_site(s)
    retitle(flows / "device-authorization.yaml", "Sign in on a TV", "Sign in on a smart TV")
    r = build_site(s)
    assert (r.flows_checked, r.flows_rendered) == (1, 2)  # gateway-login's banner names it
    assert "Use [Sign in on a smart TV" in (s.cache_path / "docs" / "gateway-login" / "latest.md").read_text()
    assert_same_as_clean_build(tmp_path, s)


def test_templates_or_settings_changed_check_everything_again(tmp_path):
    flows = copy_flows(tmp_path / "flows")
    s = settings(tmp_path, flows)
    build_site(s)
    tpl = tmp_path / "templates"
    tpl.mkdir()
    (tpl / "site-index.md.j2").write_text("# Our flows\n\n{% for f in flows %}- [{{ f.title }}]({{ f.link }})\n{% endfor %}")
    s.templates_dir = tpl
    assert build_site(s).flows_checked == N_FILES
    assert build_site(s).flows_checked == 0
    s.prefix = "flows"
    r = build_site(s)
    assert (r.flows_checked, r.flows_rendered) == (N_FILES, r.flows)
    assert_same_as_clean_build(tmp_path, s)


def test_embeds_expanded_again_only_when_their_flow_changed(tmp_path):
    project = tmp_path / "project"
    (project / "docs").mkdir(parents=True)
    (project / "mkdocs.yml").write_text("site_name: Mine\ntheme:\n  name: mkdocs\n  highlightjs: false\n")
    guide = project / "docs" / "guide.md"
    guide.write_text("# Guide\n\n```flowdoc\nflow: client-credentials\nview: sequence\n```\n")
    flows = copy_flows(tmp_path / "flows")
    s = settings(tmp_path, flows, config_file=project / "mkdocs.yml", prefix="flows")
    build_site(s)
    staged = s.cache_path / "docs" / "guide.md"
    made = staged.stat().st_mtime_ns
    retitle(flows / "device-authorization.yaml", "Sign in on a TV", "Sign in on a smart TV")
    assert build_site(s).flows_checked == 1
    assert staged.stat().st_mtime_ns == made  # the flow it embeds did not change
    f = flows / "client-credentials.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("path: /token", "path: /oauth/token"), encoding="utf-8")
    build_site(s)
    assert "/oauth/token" in staged.read_text(encoding="utf-8")
    assert_same_as_clean_build(tmp_path, s)


def test_malformed_flow_records_mean_a_full_build(tmp_path):
    flows = copy_flows(tmp_path / "flows")
    s = settings(tmp_path, flows)
    build_site(s)
    manifest = s.cache_path / "manifest.json"
    data = json.loads(manifest.read_text())
    rec = next(iter(data["flows"].values()))
    rec["requires"] = {"x": 1}  # not a flow id
    manifest.write_text(json.dumps(data))
    r = build_site(s)
    assert r.flows_checked == N_FILES
    assert_same_as_clean_build(tmp_path, s)


def test_flows_read_in_worker_processes_make_the_same_site(tmp_path, monkeypatch):
    flows = copy_flows(tmp_path / "flows")
    readers = tmp_path / "readers.txt"
    read_one = flowread.read_one

    def recorded(*args, **kw):
        with readers.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        return read_one(*args, **kw)

    monkeypatch.setattr(flowread, "read_one", recorded)
    monkeypatch.setattr(flowread, "POOL_MIN", 1)
    monkeypatch.setattr(flowread, "CHUNK", 2)
    monkeypatch.setattr(flowread, "_free_cpus", lambda: 2)  # idle or not, this machine
    s = settings(tmp_path, flows)
    bad = flows / "zz-broken.yaml"
    bad.write_text((flows / "mfa-step-up.yaml").read_text().replace("id: mfa-step-up", "id: 'not an id'", 1))
    assert build_errors(s) == full_check_errors(flows) != []
    bad.unlink()
    r = build_site(s)
    pids = {int(line) for line in readers.read_text().split()}
    assert os.getpid() not in pids and len(pids) >= 1, pids  # every file was read in a worker
    assert (r.flows_checked, r.flows_rendered) == (N_FILES, r.flows)
    monkeypatch.setattr(flowread, "POOL_MIN", 10**6)  # the clean build reads in this process
    assert_same_as_clean_build(tmp_path, s)


def test_git_versions_with_a_cached_catalogue(git_repo):
    """Versions from a tag join the cached flows; a change in another flow reads that file only."""
    flows = git_repo / "flows"
    shutil.copytree(FLOWS, flows)
    commit_all(git_repo, "flows")
    git(git_repo, "tag", "v1")
    retitle(flows / "device-authorization.yaml", "Sign in on a TV", "Sign in on a smart TV")
    text = (flows / "device-authorization.yaml").read_text(encoding="utf-8")
    (flows / "device-authorization.yaml").write_text(text.replace('version: "1.0.0"', 'version: "2.0.0"', 1))
    s = settings(git_repo.parent, flows, git_versions=["v*"])
    first = build_site(s)
    assert (s.cache_path / "docs" / "device-authorization" / "v1.md").is_file()  # from the tag
    retitle(flows / "gateway-login.yaml", "Sign in through the API gateway", "Sign in through the gateway")
    r = build_site(s)
    assert (r.flows_checked, r.flows_rendered, r.flows) == (1, 1, first.flows)
    assert "Sign in through the gateway" in (s.cache_path / "docs" / "index.md").read_text()
    clean = settings(git_repo.parent, flows, "clean", cache_dir=git_repo.parent / "clean-cache", force=True,
                     git_versions=["v*"])
    build_site(clean)
    assert snapshot(s.cache_path / "docs") == snapshot(clean.cache_path / "docs")
