"""The catalog (flowdoc.FlowSet): one place that discovers, loads, indexes and checks a set of flows,
and the configuration's paths resolved once against the pyproject.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

import flowdoc
from flowdoc import FlowSet, Version
from flowdoc.config import load_config
from flowdoc.git import GitError
from flowdoc.publish import BuildSettings

from tests.flowkit import base, to_yaml
from tests.helpers import git, run


def versioned(version: str, **changes) -> dict:
    data = base()
    data["version"] = version
    data["changelog"] = [{"version": version, "notes": ["This version."]}]
    data.update(changes)
    return data


def write(folder: Path, name: str, data) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text(data if isinstance(data, str) else to_yaml(data))
    return p


def test_index_versions_latest_and_get(tmp_path):
    for v in ("1.10.0", "1.2.0", "2.0.0-rc.1", "1.0.0"):
        write(tmp_path, f"mini-{v}.yaml", versioned(v))
    write(tmp_path, "other.yaml", versioned("0.1.0", id="other"))
    fs = FlowSet.from_paths([tmp_path])
    assert fs.invalid == [] and fs.diagnostics == [] and len(fs) == 5
    assert [f.version for f in fs.versions("mini")] == ["1.0.0", "1.2.0", "1.10.0", "2.0.0-rc.1"]
    assert list(fs.by_id) == ["mini", "other"]
    assert {f.id: f.version for f in fs.latest()} == {"mini": "2.0.0-rc.1", "other": "0.1.0"}
    assert fs.get("mini").version == "2.0.0-rc.1"
    assert fs.get("mini", "1.2.0").version == "1.2.0"
    assert fs.get("mini", Version.parse("1.10.0+build")).version == "1.10.0"
    assert fs.get("mini", "9.9.9") is None and fs.get("nothing") is None and fs.versions("nothing") == []


def test_invalid_files_missing_paths_and_the_diagnostics_of_validate(tmp_path):
    write(tmp_path, "good.yaml", base())
    bad = write(tmp_path, "bad.yaml", "id: x\ntitle: t\nstates: nope\n")
    fs = FlowSet.from_paths([tmp_path, tmp_path / "missing.yaml"])
    assert fs.invalid == [str(tmp_path / "missing.yaml"), str(bad)]
    assert [f.id for f in fs.flows] == ["mini"]
    assert fs.entries[str(bad)].flow is None and fs.entries[str(bad)].diagnostics.errors
    assert fs.diagnostics[0].code == "not-found"
    assert fs.diagnostics == flowdoc.validate([tmp_path, tmp_path / "missing.yaml"])
    assert all(d.file == str(bad) for d in fs.errors[1:])


def test_files_are_known_before_they_are_read(tmp_path):
    p = write(tmp_path, "a.yaml", base())
    fs = FlowSet.from_paths([tmp_path])
    assert fs.files == [p]
    p.write_text("id: [unclosed\n")  # read on first use, not when discovered
    assert fs.invalid == [str(p)]


def test_links_are_followed_and_named_by_their_own_path(tmp_path):
    real = write(tmp_path / "elsewhere", "real.yaml", base())
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "linked.yaml").symlink_to(real)
    fs = FlowSet.from_paths([flows])
    assert fs.files == [flows / "linked.yaml"] and fs.flows[0].file == str(flows / "linked.yaml")


def test_checks_across_flows_duplicates_and_requirements_beside_the_file(tmp_path):
    write(tmp_path, "a.yaml", base())
    needs = base()
    needs["id"] = "needs-a"
    needs["requires"] = {"login": {"flow": "mini", "provides": {"token": "steps.get_token.access_token"}}}
    b = write(tmp_path, "b.yaml", needs)
    # b alone: its requirement is found beside it, and that flow is not one of the set's
    fs = FlowSet.from_paths([b])
    assert fs.errors == [] and [f.id for f in fs.flows] == ["needs-a"]
    assert [f.file for f in fs.required(fs.flows[0], "login")] == [str(tmp_path / "a.yaml")]
    # across=False (a file compared alone, as check --against does): no requirement is looked up
    needs["requires"]["login"]["flow"] = "nothing"
    b.write_text(to_yaml(needs))
    assert [d.code for d in FlowSet.from_paths([b]).errors] == ["undefined-flow"]
    assert FlowSet.from_paths([b], across=False).errors == []
    write(tmp_path, "c.yaml", base())
    dup = FlowSet.from_paths([tmp_path / "a.yaml", tmp_path / "c.yaml"])
    assert [(d.code, d.file) for d in dup.errors] == [("duplicate-flow", str(tmp_path / "c.yaml"))]
    assert dup.invalid == [str(tmp_path / "c.yaml")] and [f.file for f in dup.flows] == [str(tmp_path / "a.yaml")]


def test_lint_is_an_option(tmp_path):
    data = base()
    data.pop("summary")
    p = write(tmp_path, "f.yaml", data)
    assert FlowSet.from_paths([p]).diagnostics == []
    linted = FlowSet.from_paths([p], lint=True)
    assert "summary-present" in [d.code for d in linted.diagnostics]
    assert linted.diagnostics == flowdoc.lint([p])


def test_from_text_and_single(tmp_path):
    flow = FlowSet.from_text(to_yaml(base()), "mem.yaml").single()
    assert flow.id == "mini" and flow.file == "mem.yaml"
    with pytest.raises(flowdoc.FlowError) as exc:
        FlowSet.from_text("id: x\n", "mem.yaml").single()
    assert exc.value.diagnostics and all(d.file == "mem.yaml" for d in exc.value.diagnostics)


def test_from_a_git_revision(tmp_path):
    git(tmp_path, "init", "-q")
    write(tmp_path / "flows", "mini.yaml", versioned("1.0.0"))
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "one")
    git(tmp_path, "tag", "v1")
    write(tmp_path / "flows", "mini.yaml", versioned("2.0.0"))
    write(tmp_path / "flows", "new.yaml", versioned("0.1.0", id="new"))
    then = FlowSet.from_git("v1", [tmp_path / "flows"])
    assert [(f.id, f.version, f.file) for f in then.flows] == [("mini", "1.0.0", "v1:flows/mini.yaml")]
    one = FlowSet.from_git("v1", [tmp_path / "flows" / "mini.yaml", tmp_path / "flows" / "new.yaml"])
    assert one.missing == [str(tmp_path / "flows" / "new.yaml")]
    assert len(one.entries) == 1 and one.single().version == "1.0.0"
    assert FlowSet.from_paths([tmp_path / "flows"]).get("mini").version == "2.0.0"
    with pytest.raises(GitError, match="unknown git revision 'v9'"):
        FlowSet.from_git("v9", [tmp_path / "flows"])
    with pytest.raises(GitError, match="is not a git revision"):
        FlowSet.from_git("--output=x", [tmp_path / "flows" / "mini.yaml"])


# ------------------------------------------------------------- configuration


def _project(tmp_path: Path) -> Path:
    """A project whose [tool.flowdoc] names paths, and a subfolder with a decoy flows folder."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.flowdoc]\nflows = "docs/flows"\ntemplates = "tpl"\nout = "public"\n'
        '[tool.flowdoc.site]\ncache_dir = ".cache"\nmermaid_js = "vendor/mermaid.js"\nconfig_file = "site.yml"\n'
    )
    write(tmp_path / "docs" / "flows", "mini.yaml", base())
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "page.md.j2").write_text("{% extends 'flowdoc/page.md.j2' %}"
                                                 "{% block title %}# Custom {{ flow.title }}{% endblock %}\n")
    decoy = tmp_path / "sub" / "docs" / "flows"
    write(decoy, "broken.yaml", "not: [a flow\n")
    return tmp_path / "sub"


def test_config_paths_are_resolved_against_the_pyproject_from_a_subfolder(tmp_path, monkeypatch):
    sub = _project(tmp_path)
    monkeypatch.chdir(sub)
    cfg = load_config()
    assert cfg.root == tmp_path
    assert cfg.flows == str(tmp_path / "docs" / "flows") and cfg.templates == str(tmp_path / "tpl")
    assert cfg.out == str(tmp_path / "public")
    assert cfg.site.cache_dir == str(tmp_path / ".cache") and cfg.site.config_file == str(tmp_path / "site.yml")
    assert cfg.site.mermaid_js == str(tmp_path / "vendor" / "mermaid.js")
    settings = BuildSettings.from_config(cfg)
    assert (settings.flows_dir, settings.out_dir, settings.templates_dir, settings.cache_dir) == (
        tmp_path / "docs" / "flows", tmp_path / "public", tmp_path / "tpl", tmp_path / ".cache")
    # the commands use the project's flows folder, not the decoy 'docs/flows' of the current folder
    r = run("validate")
    assert r.exit_code == 0, r.output
    r = run("render", tmp_path / "docs" / "flows" / "mini.yaml", "--format", "markdown")
    assert r.exit_code == 0 and r.output.startswith("# Custom A minimal flow"), r.output


def test_a_url_and_absolute_paths_stay_as_they_are(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.flowdoc]\nflows = "{tmp_path / "abs"}"\n[tool.flowdoc.site]\nmermaid_js = "https://cdn.invalid/m.js"\n')
    monkeypatch.chdir(tmp_path)
    cfg = load_config()
    assert cfg.flows == str(tmp_path / "abs") and cfg.site.mermaid_js == "https://cdn.invalid/m.js"
    r = run("validate")
    assert r.exit_code == 2 and "abs" in r.output  # a missing flows folder is named, relative to here
