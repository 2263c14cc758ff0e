"""The MkDocs plugin (`plugins: [flowdoc]`): a sample project built with `mkdocs build --strict`
with the default theme and with mkdocs-material, the ```flowdoc embed fence, the options,
`mkdocs serve` watching, and invalid flows failing the build with FILE:LINE:COL."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "site_plugin"
MERMAID_JS = ROOT / "tests" / "node" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The sample project with the example flows and a local mermaid.min.js."""
    dest = tmp_path / "project"
    shutil.copytree(SAMPLE, dest)
    shutil.copytree(ROOT / "flows", dest / "flows")
    shutil.copy(MERMAID_JS, dest / "mermaid.min.js")
    return dest


def mkdocs_build(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _expected_pages(folder: Path) -> tuple[int, int]:
    """(pages, flows) a site of the flows in ``folder`` has, counted from the files: per flow id its
    latest page, a page per major version and its changelog; and the index of all flows."""
    majors: dict[str, set[str]] = {}
    for p in folder.glob("*.yaml"):
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
        majors.setdefault(doc["id"], set()).add(str(doc["version"]).split(".")[0])
    return 1 + sum(2 + len(m) for m in majors.values()), len(majors)


def test_default_theme_strict_build(project):
    r = mkdocs_build(project)
    assert r.returncode == 0, r.stderr
    pages, flows = _expected_pages(project / "flows")
    assert flows >= 5
    assert f"flowdoc: added {pages} pages of {flows} flows under flows/" in r.stderr
    site = project / "site"
    for path in (
        "flows/index.html",
        "flows/authorization-code-pkce/latest/index.html",
        "flows/authorization-code-pkce/v1/index.html",
        "flows/authorization-code-pkce/v3/index.html",
        "flows/authorization-code-pkce/changelog/index.html",
        "assets/flowdoc/mermaid.min.js",
        "assets/flowdoc/flowdoc.js",
        "assets/flowdoc/flowdoc.css",
    ):
        assert (site / path).is_file(), path
    # the embed fences of the user's pages: a view, a view of an older version, a whole page
    home = (site / "index.html").read_text()
    assert "```flowdoc" not in home and "flowdoc fence" not in home
    pres = re.findall(r'<pre class="flowdoc-mermaid" data-search-exclude>(\w+)', home)
    assert pres == ["sequenceDiagram", "stateDiagram"]
    guide = (site / "guide/index.html").read_text()
    assert "Sign in with the implicit flow" in guide and "flowchart" in guide
    assert guide.count('<pre class="flowdoc-mermaid"') == 4  # the embedded page's three views, the flowchart
    v1 = (site / "flows/authorization-code-pkce/v1/index.html").read_text()
    assert "flowdoc-banner-deprecated" in v1 and 'href="../latest/"' in v1
    assert '<script src="../../../assets/flowdoc/mermaid.min.js"></script>' in v1
    assert '<script src="../../../assets/flowdoc/flowdoc.js"></script>' in v1


def test_material_theme_strict_build(project):
    r = mkdocs_build(project, "-f", "mkdocs-material.yml", "-d", "site-material")
    assert r.returncode == 0, r.stderr
    site = project / "site-material"
    latest = (site / "flows/client-credentials/latest/index.html").read_text()
    assert "assets/stylesheets/main" in latest  # it is Material
    assert latest.count('<pre class="flowdoc-mermaid"') == 3
    # flowdoc.js draws the diagrams (Material's own Mermaid draws into a closed shadow root, at
    # the column's width): Material finds no pre.mermaid to take
    assert "assets/flowdoc/mermaid.min.js" in latest and "assets/flowdoc/flowdoc.js" in latest
    assert '<pre class="mermaid"' not in latest and "flowdoc-versions" in latest
    home = (site / "index.html").read_text()
    assert re.findall(r'<pre class="flowdoc-mermaid" data-search-exclude>(\w+)', home) == ["sequenceDiagram", "stateDiagram"]
    # offline by default: Material's fonts from Google are turned off (the project does not set them)
    assert "fonts.googleapis.com" not in latest


def test_invalid_flow_fails_with_file_line_col(project):
    bad = project / "flows" / "broken.yaml"
    bad.write_text("id: broken\ntitle: Broken\nversion: 1.0\nactors: {a: {name: A, kind: person}}\n")
    r = mkdocs_build(project)
    assert r.returncode != 0
    assert "flowdoc: 1 invalid flow file in" in r.stderr
    assert re.search(r"flows/broken\.yaml:3:10: error\[invalid-value\]: version", r.stderr), r.stderr
    assert not (project / "site").exists()


def test_bad_embed_fails_with_page_and_line(project):
    (project / "docs" / "guide.md").write_text("# Guide\n\nText.\n\n```flowdoc\nflow: no-such-flow\n```\n")
    r = mkdocs_build(project)
    assert r.returncode != 0
    assert re.search(r"docs/guide\.md:5: flowdoc fence: unknown flow 'no-such-flow'", r.stderr), r.stderr


def test_options_prefix_versions_and_cdn(project):
    cfg = project / "mkdocs.yml"
    text = cfg.read_text()
    text = text.replace("prefix: flows", "prefix: reference/auth").replace("versions: true", "versions: false")
    text = text.replace("mermaid_js: mermaid.min.js", "mermaid_js: https://example.org/mermaid.js")
    text = text.replace("Flows: flows/index.md", "Flows: reference/auth/index.md")
    cfg.write_text(text)
    home = project / "docs" / "index.md"
    home.write_text(home.read_text().replace("(flows/index.md)", "(reference/auth/index.md)"))
    r = mkdocs_build(project)
    assert r.returncode == 0, r.stderr
    site = project / "site"
    assert (site / "reference/auth/authorization-code-pkce/index.html").is_file()
    assert not (site / "reference/auth/authorization-code-pkce/v1").exists()
    assert not (site / "assets/flowdoc/mermaid.min.js").exists()
    assert '<script src="https://example.org/mermaid.js"></script>' in (site / "index.html").read_text()


def test_generated_page_clash_is_an_error(project):
    (project / "docs" / "flows").mkdir()
    (project / "docs" / "flows" / "index.md").write_text("# Mine\n")
    r = mkdocs_build(project)
    assert r.returncode != 0 and "has the path of a generated page" in r.stderr


def test_serve_watches_flows_and_pages_are_reused(project, monkeypatch):
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    import flowdoc.render

    cfg = load_config(str(project / "mkdocs.yml"), site_dir=str(project / "site"))
    plugin = cfg.plugins["flowdoc"]

    class Server:
        def __init__(self):
            self.watched = []

        def watch(self, path, *args, **kwargs):
            self.watched.append(path)

    server = Server()
    plugin.on_serve(server, config=cfg, builder=lambda: None)
    assert server.watched == [str(project / "flows")]

    calls = []
    real = flowdoc.render.render_page
    monkeypatch.setattr(flowdoc.render, "render_page", lambda *a, **k: calls.append(a[0].id) or real(*a, **k))
    build(cfg)
    first = len(calls)
    assert first >= 11  # the pages of every flow and version, and the embedded page
    # a rebuild in the same process (mkdocs serve) renders only the changed flow again
    f = project / "flows" / "mfa-step-up.yaml"
    f.write_text(f.read_text().replace("title: ", "title: Changed, ", 1))
    calls.clear()
    cfg2 = load_config(str(project / "mkdocs.yml"), site_dir=str(project / "site"))
    assert cfg2.plugins["flowdoc"] is plugin  # kept across rebuilds (on_startup), as in mkdocs serve
    build(cfg2)
    assert set(calls) <= {"mfa-step-up", "authorization-code-pkce"}  # the changed flow, and the embed
    assert "mfa-step-up" in calls and "Changed, " in (project / "site/flows/mfa-step-up/latest/index.html").read_text()


def test_another_project_built_in_the_process_shares_no_pages(project, tmp_path, monkeypatch):
    """MkDocs keeps one plugin instance per process for every project (its plugin cache): the pages
    remembered for ``mkdocs serve`` belong to one project, a build of another starts from nothing."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    import flowdoc.render

    other = tmp_path / "other"
    shutil.copytree(project, other)
    cfg = load_config(str(other / "mkdocs.yml"), site_dir=str(other / "site"))
    build(cfg)
    calls = []
    real = flowdoc.render.render_page
    monkeypatch.setattr(flowdoc.render, "render_page", lambda *a, **k: calls.append(a[0].id) or real(*a, **k))
    cfg2 = load_config(str(project / "mkdocs.yml"), site_dir=str(project / "site"))
    assert cfg2.plugins["flowdoc"] is cfg.plugins["flowdoc"]  # the same instance: the state it keeps is the point
    build(cfg2)
    _pages, flows = _expected_pages(project / "flows")
    assert len(set(calls)) == flows and len(calls) >= 11  # every flow of this project rendered for it


def test_mkdocs_serve_rebuilds_when_a_flow_changes(project):
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )

    def title() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/flows/mfa-step-up/latest/", timeout=10) as r:
            return re.search(r"<title>([^<]*)", r.read().decode()).group(1)

    try:
        lines = []
        while True:
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
            if "Serving on" in line:
                break
        assert "Watching paths for changes" in "".join(lines) and "'flows'" in "".join(lines)
        assert title().startswith("Multi-factor")
        f = project / "flows" / "mfa-step-up.yaml"
        f.write_text(f.read_text().replace("title: ", "title: Edited, ", 1))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not title().startswith("Edited, "):
            time.sleep(0.2)
        assert title().startswith("Edited, ")
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: MkDocs removes its temporary site, and the plugin its work folder
        proc.wait(timeout=30)


def test_plugin_and_build_agree_on_which_pages_are_unchanged(project, tmp_path):
    """`mkdocs build` with the plugin and `flowdoc build` key a flow's pages the same way (one function),
    also for a flow file that is a link to a file elsewhere."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    from flowdoc.publish import BuildSettings, build_site
    from flowdoc.publish.cache import Manifest

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.move(project / "flows" / "client-credentials.yaml", elsewhere / "client-credentials.yaml")
    (project / "flows" / "cc-link.yaml").symlink_to(elsewhere / "client-credentials.yaml")
    cfg = load_config(str(project / "mkdocs.yml"), site_dir=str(project / "site"))
    plugin = cfg.plugins["flowdoc"]
    build(cfg)
    settings = BuildSettings(flows_dir=project / "flows", out_dir=tmp_path / "built", prefix=plugin.config.prefix,
                             versions=plugin.config.versions, mermaid_js=str(project / "mermaid.min.js"))
    assert build_site(settings).pages_built > 0
    built = Manifest.load(settings.cache_path / "manifest.json").ids
    assert len(built) == 7 and "client-credentials" in built
    assert {rec["key"] for rec in built.values()} == set(plugin._memo)
    # an edit changes the key of that flow alone, for both
    f = project / "flows" / "mfa-step-up.yaml"
    f.write_text(f.read_text().replace("title: ", "title: Changed, ", 1))
    build(load_config(str(project / "mkdocs.yml"), site_dir=str(project / "site")))
    assert build_site(settings).pages_built == len(built["mfa-step-up"]["pages"]) + 1  # and the index
    again = Manifest.load(settings.cache_path / "manifest.json").ids
    assert {rec["key"] for rec in again.values()} == set(plugin._memo)
    assert {fid for fid in again if again[fid]["key"] != built[fid]["key"]} == {"mfa-step-up"}
