"""flowdoc build and the shared page generation: URLs, versions, banners, changelogs,
embeds, atomic and incremental builds, settings from [tool.flowdoc]."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import markdown
import pytest

from flowdoc import load_flow
from flowdoc.publish import DEFAULT_MERMAID_JS, BuildSettings, Layout, PublishError, build_site, load_site
from flowdoc.publish.markdown import mermaid_html
from tests.helpers import FLOWS, MERMAID_JS, ROOT, SITE_CONFIG, copy_flows, leftovers, run, snapshot



# ------------------------------------------------------------------ helpers


def bump(src: Path, dest: Path, version: str, *, title: str | None = None, extra: str = "") -> Path:
    """A new version of a flow file, with a changelog note and a moved `updated`."""
    text = src.read_text(encoding="utf-8")
    text = re.sub(r'^version: .*$', f'version: "{version}"', text, count=1, flags=re.M)
    text = re.sub(r"^updated: .*$", "updated: 2027-01-15", text, count=1, flags=re.M)
    if title:
        text = re.sub(r"^title: .*$", f"title: {title}", text, count=1, flags=re.M)
    text = re.sub(
        r"^changelog:\n",
        f'changelog:\n  - version: "{version}"\n    date: 2027-01-15\n    notes: Version {version}.\n',
        text,
        count=1,
        flags=re.M,
    )
    dest.write_text(text + extra, encoding="utf-8")
    return dest


def settings(tmp_path: Path, flows: Path, **kw) -> BuildSettings:
    kw.setdefault("config_file", SITE_CONFIG)
    kw.setdefault("mermaid_js", str(MERMAID_JS))
    return BuildSettings(flows_dir=flows, out_dir=tmp_path / "out" / "site", **kw)



# -------------------------------------------------------------- URLs, pages


def test_layout_urls():
    lay = Layout()
    assert lay.index == "index.md"
    assert lay.latest("pkce") == "pkce/latest.md"
    assert lay.version("pkce", 2) == "pkce/v2.md"
    assert lay.changelog("pkce") == "pkce/changelog.md"
    pre = Layout("flows/", True)
    assert pre.index == "flows/index.md" and pre.version("x", 1) == "flows/x/v1.md"
    off = Layout("", False)
    assert off.latest("x") == "x/index.md"


def test_example_pages_versions_banner_and_changelog():
    site = load_site(FLOWS)
    pages = {p.src_uri: p for p in site.pages_for("authorization-code-pkce")}
    assert list(pages) == [
        "authorization-code-pkce/latest.md",
        "authorization-code-pkce/v3.md",
        "authorization-code-pkce/v1.md",
        "authorization-code-pkce/changelog.md",
    ]
    newest = site.entries["authorization-code-pkce"].latest
    assert newest.version.startswith("3.")
    latest = pages["authorization-code-pkce/latest.md"].content
    v1 = pages["authorization-code-pkce/v1.md"].content
    v3 = pages["authorization-code-pkce/v3.md"].content
    # a front matter for navigation and search, then the title; the selector sits under the title,
    # the current version in bold
    assert latest.split("\n---\n\n", 1)[1].startswith("# Sign in with the authorization code flow")
    assert '"kind": "latest"' in latest and '"canonical"' not in latest
    assert '"canonical": "authorization-code-pkce/latest.md"' in v3 and 'search: {"exclude": true}' in v3
    assert 'status: "deprecated"' in v1 and '"label": "v1, deprecated"' in v1
    assert f'<strong class="flowdoc-current">latest ({newest.version})</strong>' in latest
    assert "[v1 (deprecated)](v1.md)" in latest and "[Changelog](changelog.md)" in latest
    assert '<strong class="flowdoc-current">v1 (deprecated)</strong>' in v1
    # the deprecated v1 has the banner, with the replacement, the sunset and the migration links
    assert "flowdoc-banner-deprecated" in v1
    assert "stops working on 2027-05-31" in v1
    assert "Use [Sign in with the authorization code flow, PKCE and state](latest.md) instead." in v1
    assert "**Migration:** Move to version 2" in v1 and "[what changed](changelog.md)" in v1
    assert "<https://docs.example.com/flows/authorization-code-pkce/v2/>" in v1
    # the renderer's own deprecation quote is replaced by the site's banner: once per page
    assert v1.count("Deprecated.") == 1
    assert "flowdoc-banner" not in latest and "flowdoc-banner" not in v3
    # each page shows the changelog up to its version
    assert "## Changelog" in v1 and "### 1.0.0" in v1 and "### 2." not in v1.split("## Changelog", 1)[1]
    changelog = pages["authorization-code-pkce/changelog.md"].content
    assert changelog.index(f"## {newest.version}") < changelog.index("## 2.0.0") < changelog.index("## 1.0.0")
    assert "(`transition-removed`)" in changelog and "flowdoc-level-breaking" in changelog
    # the generated changes say which version they are counted from (2.0.0 has no file of its own)
    newest_entry = changelog.split(f"## {newest.version}", 1)[1].split("## 2.0.0", 1)[0]
    v1_version = load_flow("flows/authorization-code-pkce.v1.yaml").version
    assert f"Changes since {v1_version}:" in newest_entry and "(`transition-removed`)" in newest_entry
    assert "PKCE (S256) is required for every client" in changelog
    index = site.index_page().content
    assert "| [Sign in with the authorization code flow, PKCE and state](authorization-code-pkce/latest.md) |" in index
    row = next(line for line in index.splitlines() if "authorization-code-pkce/latest.md" in line)
    assert "current" in row and f"| {newest.version} |" in row and f"| {newest.updated.isoformat()} |" in row
    assert "[v3](authorization-code-pkce/v3.md) · [v1 (deprecated)](authorization-code-pkce/v1.md)" in row


def test_older_version_gets_banner_with_link_to_latest(tmp_path):
    flows = copy_flows(tmp_path / "flows")
    bump(flows / "client-credentials.yaml", flows / "client-credentials.v2.yaml", "2.0.0")
    site = load_site(flows)
    pages = {p.src_uri: p.content for p in site.pages_for("client-credentials")}
    v1 = pages["client-credentials/v1.md"]
    assert "flowdoc-banner-older" in v1
    assert "You are reading version 1.2.0 of this flow; the latest is [2.0.0](latest.md)." in v1
    assert "[what changed](changelog.md)" in v1
    assert "flowdoc-banner" not in pages["client-credentials/latest.md"]
    assert "flowdoc-banner" not in pages["client-credentials/v2.md"]


def test_versions_off_one_page_per_flow():
    site = load_site(FLOWS, versions=False, prefix="flows")
    pages = site.pages_for("authorization-code-pkce")
    assert [p.src_uri for p in pages] == ["flows/authorization-code-pkce/index.md"]
    assert "flowdoc-versions" not in pages[0].content
    assert "[changelog]" not in site.index_page().content
    assert site.index_page().src_uri == "flows/index.md"


def test_embed_fences():
    site = load_site(FLOWS)
    page = "# Guide\n\n```flowdoc\nflow: client-credentials\nview: sequence\n```\n\ntext\n"
    out = site.expand_embeds(page, where="docs/guide.md")
    assert "```flowdoc" not in out and out.count("```mermaid\nsequenceDiagram") == 1 and out.endswith("text\n")
    state = site.expand_embeds("~~~flowdoc\nflow: client-credentials\nview: state\nversion: 1.0.0\n~~~\n")
    assert "stateDiagram" in state
    whole = site.expand_embeds("```flowdoc\nflow: authorization-code-pkce\nversion: v1\n```\n")
    assert whole.startswith("# Sign in with the implicit flow")
    assert "Deprecated." in whole  # the renderer's own deprecation note (no site banner in an embed)
    indented = site.expand_embeds("- item\n\n    ```flowdoc\n    flow: client-credentials\n    view: flowchart\n    ```\n")
    assert "\n    ```mermaid\n    flowchart" in indented

    def error(body: str) -> str:
        with pytest.raises(PublishError) as exc:
            site.expand_embeds(f"# T\n\n```flowdoc\n{body}\n```\n", where="docs/x.md")
        return str(exc.value)

    assert error("flow: nope").startswith("docs/x.md:3: flowdoc fence: unknown flow 'nope'")
    assert "has no version 7 (1.0.0, 1.2.0)" in error("flow: client-credentials\nversion: 7")
    assert "unknown view 'gantt'" in error("flow: client-credentials\nview: gantt")
    assert "unknown key 'flwo'" in error("flwo: client-credentials")
    assert "write 'flow: ID'" in error("- a list")


def test_mermaid_extension_makes_pre_mermaid():
    md = markdown.Markdown(extensions=["flowdoc.publish.markdown", "fenced_code"])
    html = md.convert("# T\n\n```mermaid\nsequenceDiagram\n  A->>B: x < y & z\n```\n\n```python\nprint(1)\n```\n")
    assert '<pre class="flowdoc-mermaid" data-search-exclude>sequenceDiagram\n  A-&gt;&gt;B: x &lt; y &amp; z</pre>' in html
    assert '<code class="language-python">' in html
    assert mermaid_html("graph TD\n  a-->b\n") == '<pre class="flowdoc-mermaid" data-search-exclude>graph TD\n  a--&gt;b</pre>'


# ------------------------------------------------------------------- build


def test_build_example_site_offline(tmp_path):
    out = tmp_path / "out" / "site"
    r = run(
        "build", "--flows", str(FLOWS), "--out", str(out), "--config-file", str(SITE_CONFIG),
        "--mermaid-js", str(MERMAID_JS), "--cache-dir", str(tmp_path / "cache"), "--strict",
    )
    assert r.exit_code == 0, r.output + r.stderr
    assert re.search(r"\d+ pages of 7 flows: \d+ built, 0 reused; site built by MkDocs in [\d.]+ s", r.stdout)
    for path in (
        "index.html", "introduction/index.html", "how-to-read/index.html",
        "authorization-code-pkce/latest/index.html", "authorization-code-pkce/v1/index.html",
        "authorization-code-pkce/v3/index.html", "authorization-code-pkce/changelog/index.html",
        "client-credentials/v1/index.html", "assets/flowdoc/mermaid.min.js", "assets/flowdoc/flowdoc.js",
    ):
        assert (out / path).is_file(), path
    assert (out / "assets/flowdoc/mermaid.min.js").read_bytes() == MERMAID_JS.read_bytes()
    latest = (out / "authorization-code-pkce/latest/index.html").read_text()
    assert latest.count('<pre class="flowdoc-mermaid"') == 3
    assert 'src="../../assets/flowdoc/mermaid.min.js"' in latest
    # with a local Mermaid the site needs no internet: no page names a CDN
    for html in out.rglob("*.html"):
        assert "cdn.jsdelivr" not in html.read_text() and "cdnjs" not in html.read_text(), html
    v1 = (out / "authorization-code-pkce/v1/index.html").read_text()
    assert 'class="flowdoc-banner flowdoc-banner-deprecated"' in v1
    assert 'href="../latest/"' in v1 and 'href="../changelog/"' in v1
    # nothing left beside the output
    assert sorted(p.name for p in out.parent.iterdir()) == ["site"]


def test_default_mermaid_is_the_pinned_one_shipped_with_flowdoc(tmp_path):
    """Offline by default: the Mermaid of the package (the version the tests pin) is copied into
    the site; a CDN is opt-in (a URL)."""
    from flowdoc.publish.assets import MERMAID_CDN_URL, MERMAID_VERSION

    pinned = json.loads((ROOT / "tests/node/package.json").read_text())["dependencies"]["mermaid"]
    assert MERMAID_VERSION == pinned and MERMAID_CDN_URL.endswith(f"/mermaid@{pinned}/dist/mermaid.min.js")
    assert Path(DEFAULT_MERMAID_JS).read_bytes() == MERMAID_JS.read_bytes()  # the very file the tests parse with
    assert (Path(DEFAULT_MERMAID_JS).parent / "LICENSE").is_file()
    s = settings(tmp_path, FLOWS, mermaid_js=None)
    build_site(s)
    html = (s.out_dir / "client-credentials/latest/index.html").read_text()
    assert '<script src="../../assets/flowdoc/mermaid.min.js"></script>' in html
    assert (s.out_dir / "assets/flowdoc/mermaid.min.js").read_bytes() == MERMAID_JS.read_bytes()
    for page in s.out_dir.rglob("*.html"):
        assert "cdn.jsdelivr" not in page.read_text() and "cdnjs" not in page.read_text(), page
    s2 = settings(tmp_path / "b", FLOWS, mermaid_js="https://example.org/m.js")
    build_site(s2)
    assert '<script src="https://example.org/m.js"></script>' in (s2.out_dir / "index.html").read_text()


def test_failed_build_leaves_previous_site_and_names_the_place(tmp_path):
    flows = copy_flows(tmp_path / "flows")
    out = tmp_path / "out" / "site"
    args = ["build", "--flows", str(flows), "--out", str(out), "--config-file", str(SITE_CONFIG),
            "--mermaid-js", str(MERMAID_JS)]
    assert run(*args).exit_code == 0
    before = snapshot(out)
    bad = flows / "broken.yaml"
    bad.write_text("id: broken\ntitle: Broken\nactors: {a: {name: A, kind: person}}\nstates: [\n", encoding="utf-8")
    r = run(*args)
    assert r.exit_code == 2
    assert re.search(rf"{re.escape(str(bad))}:\d+:\d+: error\[", r.stderr), r.stderr
    assert f"the site in {out} was left as it was" in r.stderr
    assert snapshot(out) == before
    assert leftovers(out) == []
    # fixed: builds again
    bad.unlink()
    r = run(*args)
    assert r.exit_code == 0 and "0 built" in r.stdout


def test_mkdocs_failure_is_atomic_too(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "site", project)
    s = settings(tmp_path, FLOWS, config_file=project / "mkdocs.yml", strict=True)
    build_site(s)
    before = snapshot(s.out_dir)
    (project / "docs" / "introduction.md").write_text("# Intro\n\nSee [the missing page](missing.md).\n")
    with pytest.raises(PublishError) as exc:
        build_site(s)
    assert "MkDocs failed" in str(exc.value) and "missing.md" in str(exc.value)
    assert snapshot(s.out_dir) == before
    assert leftovers(s.out_dir) == []
    # the next good build is complete
    (project / "docs" / "introduction.md").write_text("# Intro\n\nFixed.\n")
    r = build_site(s)
    assert r.mkdocs_ran and "Fixed." in (s.out_dir / "introduction/index.html").read_text()


def test_incremental_rebuild_reuses_pages(tmp_path):
    flows = copy_flows(tmp_path / "flows")
    s = settings(tmp_path, flows)
    first = build_site(s)
    total = first.pages_built
    site = load_site(flows)
    # index + per flow: latest, one page per major version, changelog
    assert total == 1 + sum(len(site.layout.flow_uris(fv)) for fv in site.entries.values())
    assert first.pages_reused == 0 and first.mkdocs_ran and first.flows == 7
    assert "built" in first.summary() and "reused" in first.summary()

    again = build_site(s)
    assert (again.pages_built, again.pages_reused, again.mkdocs_ran) == (0, total, False)
    assert "site unchanged (MkDocs not run)" in again.summary()

    staged = s.cache_path / "docs"
    untouched = (staged / "gateway-login/latest.md").stat().st_mtime_ns
    f = flows / "client-credentials.yaml"
    f.write_text(f.read_text().replace("title: Service-to-service", "title: Machine-to-machine", 1))
    one = build_site(s)
    # the 3 pages of that flow (latest, v1, changelog) and the index, whose title column changed
    assert (one.pages_built, one.pages_reused, one.mkdocs_ran) == (4, total - 4, True)
    assert (staged / "gateway-login/latest.md").stat().st_mtime_ns == untouched
    assert "Machine-to-machine calls" in (s.out_dir / "client-credentials/latest/index.html").read_text()

    # same bytes, new mtime: nothing to do
    os.utime(f)
    assert build_site(s).pages_built == 0

    # output deleted: MkDocs runs, no page is re-rendered
    shutil.rmtree(s.out_dir)
    rerun = build_site(s)
    assert (rerun.pages_built, rerun.mkdocs_ran) == (0, True) and (s.out_dir / "index.html").is_file()

    # a new version of a flow re-renders that flow only
    bump(flows / "gateway-login.yaml", flows / "gateway-login.v3.yaml", "3.0.0")
    v3 = build_site(s)
    assert v3.pages_built == 5  # latest, v3, v2, changelog, index
    assert (s.out_dir / "gateway-login/v3/index.html").is_file()
    total += 1

    # a template change (templates folder) re-renders everything
    tpl = tmp_path / "templates"
    tpl.mkdir()
    s.templates_dir = tpl
    assert build_site(s).pages_built == 0  # an empty templates folder changes nothing
    (tpl / "site-index.md.j2").write_text("# Our flows\n\n{% for f in flows %}- [{{ f.title }}]({{ f.link }})\n{% endfor %}")
    t = build_site(s)
    assert t.pages_built == total and "Our flows" in (s.out_dir / "index.html").read_text()
    s.force = True
    assert build_site(s).pages_built == total


def test_flow_removed_and_its_pages_go(tmp_path):
    flows = copy_flows(tmp_path / "flows")
    s = settings(tmp_path, flows)
    build_site(s)
    assert (s.out_dir / "mfa-step-up/latest/index.html").is_file()
    (flows / "mfa-step-up.yaml").unlink()
    r = build_site(s)
    assert r.mkdocs_ran and not (s.out_dir / "mfa-step-up").exists()
    assert not (s.cache_path / "docs" / "mfa-step-up").joinpath("latest.md").exists()
    assert "mfa-step-up" not in (s.out_dir / "index.html").read_text()


def test_settings_from_pyproject(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    copy_flows(project / "specs")
    (project / "pyproject.toml").write_text(
        f"""[tool.flowdoc]
flows = "specs"
out = "public"

[tool.flowdoc.site]
mermaid_js = "{MERMAID_JS}"
prefix = "auth"
versions = false
cache_dir = ".cache/flowdoc"
"""
    )
    monkeypatch.chdir(project)
    r = run("build")
    assert r.exit_code == 0, r.output + r.stderr
    out = project / "public"
    assert (out / "auth/index.html").is_file()
    assert (out / "auth/authorization-code-pkce/index.html").is_file()
    assert not (out / "auth/authorization-code-pkce/v1").exists()
    assert (out / "assets/flowdoc/mermaid.min.js").is_file()
    assert (project / ".cache/flowdoc/manifest.json").is_file()
    # the built-in MkDocs project (no site/ here): mkdocs theme without CDN highlighting
    html = (out / "auth/index.html").read_text()
    assert "cdnjs" not in html and "Authentication flows" in html
    # CLI options win over the settings
    r = run("build", "--out", "other", "--versions")
    assert r.exit_code == 0 and (project / "other/auth/authorization-code-pkce/v1/index.html").is_file()


def test_invalid_settings_and_output_folder(tmp_path, monkeypatch):
    flows = copy_flows(tmp_path / "flows")
    r = run("build", "--flows", str(flows), "--out", str(flows))
    assert r.exit_code == 2 and "would replace" in r.stderr
    r = run("build", "--flows", str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
    assert r.exit_code == 2 and "no such flows folder" in r.stderr
    r = run("build", "--flows", str(flows), "--out", str(tmp_path / "o"), "--mermaid-js", str(tmp_path / "m.js"))
    assert r.exit_code == 2 and "m.js: no such file" in r.stderr
    r = run("build", "--flows", str(flows), "--out", str(tmp_path / "o"), "--config-file", str(tmp_path / "mk.yml"))
    assert r.exit_code == 2 and "no such MkDocs configuration file" in r.stderr
    (tmp_path / "pyproject.toml").write_text("[tool.flowdoc.site]\nversion = true\n")
    monkeypatch.chdir(tmp_path)
    r = run("build")
    assert r.exit_code == 2 and "[tool.flowdoc] site.version" in r.stderr


def test_user_project_pages_with_embeds_and_clashes(tmp_path):
    project = tmp_path / "project"
    (project / "docs").mkdir(parents=True)
    (project / "mkdocs.yml").write_text("site_name: Mine\ntheme:\n  name: mkdocs\n  highlightjs: false\n")
    (project / "docs" / "guide.md").write_text(
        "# Guide\n\n```flowdoc\nflow: client-credentials\nview: sequence\n```\n\nSee [flows](flows/index.md).\n"
    )
    s = settings(tmp_path, FLOWS, config_file=project / "mkdocs.yml", prefix="flows", strict=True)
    r = build_site(s)
    guide = (s.out_dir / "guide/index.html").read_text()
    assert guide.count('<pre class="flowdoc-mermaid" data-search-exclude>sequenceDiagram') == 1
    assert (s.out_dir / "flows/client-credentials/latest/index.html").is_file()
    # the embed is cached like a page: unchanged → not expanded again, MkDocs not run
    assert build_site(s).mkdocs_ran is False
    (project / "docs" / "guide.md").write_text("# Guide\n\n```flowdoc\nflow: client-credentials\nview: state\n```\n")
    assert build_site(s).mkdocs_ran and "stateDiagram" in (s.out_dir / "guide/index.html").read_text()
    (project / "docs" / "guide.md").write_text("# Guide\n\n```flowdoc\nflow: missing\n```\n")
    with pytest.raises(PublishError, match=r"guide\.md:3: flowdoc fence: unknown flow 'missing'"):
        build_site(s)
    (project / "docs" / "guide.md").write_text("# Guide\n")
    (project / "docs" / "flows").mkdir()
    (project / "docs" / "flows" / "index.md").write_text("# Mine\n")
    with pytest.raises(PublishError, match="has the path of a generated page"):
        build_site(s)
    assert r.flows == 7


def test_build_refuses_a_project_that_uses_the_plugin(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text("site_name: P\nplugins:\n  - flowdoc:\n      flows_dir: flows\n")
    shutil.copytree(FLOWS, tmp_path / "flows")
    with pytest.raises(PublishError, match="uses the flowdoc MkDocs plugin"):
        build_site(settings(tmp_path, FLOWS, config_file=tmp_path / "mkdocs.yml"))


def test_progress_bar_only_on_a_terminal(capsys):
    from flowdoc.cli.build import ProgressReporter

    rep = ProgressReporter(enabled=True, min_items=3)
    rep.start(5, "Rendering flows")
    for _ in range(5):
        rep.advance()
    rep.finish()
    assert "Rendering flows" in capsys.readouterr().err
    off = ProgressReporter(enabled=False)
    off.stage("Checking flows")
    off.start(500, "Rendering flows")
    off.advance()
    off.finish()
    assert capsys.readouterr().err == ""
    # a build through the CLI (not a terminal here) prints only the summary
    r = run("build", "--help")
    assert "--mermaid-js PATH|URL" in r.stdout and "mermaid@11" in r.stdout.replace("\n", "").replace(" ", "")


def test_cache_key_follows_the_renderers_builtin_templates(tmp_path, monkeypatch):
    """The built-in page templates (templates/, linked into the package) are part of the key."""
    import flowdoc.render.page as page_mod
    from flowdoc.publish.cache import code_fingerprint

    before = code_fingerprint()
    fake = tmp_path / "builtin"
    shutil.copytree(page_mod.default_templates_dir(), fake)
    monkeypatch.setattr(page_mod, "default_templates_dir", lambda: fake)
    assert code_fingerprint() == before
    (fake / "page.md.j2").write_text((fake / "page.md.j2").read_text() + "\n")
    assert code_fingerprint() != before


def test_deprecated_flow_replaced_by_another_flow(tmp_path):
    flows = copy_flows(tmp_path / "flows")
    f = flows / "gateway-login.yaml"
    text = f.read_text(encoding="utf-8")
    assert "\nstatus: current\n" in text
    f.write_text(
        text.replace(
            "\nstatus: current\n",
            "\nstatus: deprecated\ndeprecation:\n  replaced_by: authorization-code-pkce\n"
            "  migration: https://docs.example.com/migrate-from-gateway\n",
            1,
        ),
        encoding="utf-8",
    )
    site = load_site(flows)
    latest = site.pages_for("gateway-login")[0].content
    assert "flowdoc-banner-deprecated" in latest
    assert "Use [Sign in with the authorization code flow, PKCE and state](../authorization-code-pkce/latest.md) instead." in latest
    assert "**Migration:** [migration guide](https://docs.example.com/migrate-from-gateway)" in latest
    assert "[v2 (deprecated)](v2.md)" in latest
    assert "flowdoc-status-deprecated" in site.index_page().content
    # a replacement that is not on the site is named without a link
    f.write_text(f.read_text().replace("replaced_by: authorization-code-pkce", "replaced_by: elsewhere"))
    latest = load_site(flows).pages_for("gateway-login")[0].content
    assert "flowdoc-banner-deprecated" in latest and "Use the flow `elsewhere` instead." in latest
