"""The MkDocs stage page by page (flowdoc/publish/mkdocs_pages.py): a change re-renders only the
pages it changes, the site is byte for byte the site a build from nothing (and MkDocs' own build)
makes, warnings of reused pages are logged again, plugins flowdoc does not know get MkDocs' own
build, and a damaged page cache entry is made again."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flowdoc.publish import BuildSettings, PublishError, build_site
from flowdoc.publish import mkdocs_build
from tests.helpers import MERMAID_JS, ROOT, SITE_CONFIG, copy_flows, snapshot

FLOW = "client-credentials.yaml"


@pytest.fixture(autouse=True)
def _fixed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    # the sitemap's dates, the gzip header and the homepage's build time come from the clock
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")


def settings(tmp_path: Path, flows: Path, name: str = "a", **kw) -> BuildSettings:
    kw.setdefault("config_file", SITE_CONFIG)
    return BuildSettings(flows_dir=flows, out_dir=tmp_path / name / "site", cache_dir=tmp_path / name / "cache",
                         mermaid_js=str(MERMAID_JS), **kw)


def retitle(flows: Path, name: str = FLOW) -> None:
    """A new title and new content for one flow."""
    path = flows / name
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^title: (.*)$", r"title: Renamed \1", text, count=1, flags=re.M)
    text = re.sub(r"^summary: >-\n", "summary: >-\n  A changed summary.\n", text, count=1, flags=re.M)
    path.write_text(text, encoding="utf-8")


def doc_pages(result) -> int:
    return result.pages_rendered + result.pages_linked


def test_one_flow_changed_renders_its_pages_and_the_index_only(tmp_path: Path):
    flows = copy_flows(tmp_path / "flows")
    s = settings(tmp_path, flows)
    first = build_site(s)
    total = doc_pages(first)
    assert first.pages_converted == total == first.pages_rendered and first.pages_linked == 0
    assert total > 20  # enough pages for worker processes
    retitle(flows)
    again = build_site(s)
    # latest, v1, changelog of the flow and the index: converted and rendered; the others linked
    assert (again.pages_converted, again.pages_rendered, again.pages_linked) == (4, 4, total - 4)
    assert "; site built by MkDocs (4 HTML rendered, " + f"{total - 4} unchanged) in " in again.summary()
    assert "unchanged)" not in first.summary()
    page = (s.out_dir / "client-credentials" / "latest" / "index.html").read_text(encoding="utf-8")
    assert "Renamed" in page and "A changed summary." in page
    assert "Renamed" in (s.out_dir / "index.html").read_text(encoding="utf-8")
    index = (s.out_dir / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "A changed summary." in index


def test_incremental_site_is_the_site_a_clean_build_makes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    flows = copy_flows(tmp_path / "flows")
    s = settings(tmp_path, flows)
    build_site(s)
    retitle(flows)
    (flows / "mfa-step-up.yaml").unlink()
    inc = build_site(s)
    # the other pages' links are what they were: their conversions are reused
    assert 0 < inc.pages_converted < inc.pages_linked
    clean = build_site(settings(tmp_path, flows, "clean"))
    assert clean.pages_linked == 0
    got = snapshot(s.out_dir)
    assert got == snapshot(tmp_path / "clean" / "site")
    assert {"sitemap.xml", "sitemap.xml.gz", "search/search_index.json", "404.html"} <= set(got)
    # and MkDocs' own build of the same docs makes the same bytes
    monkeypatch.setattr(mkdocs_build, "supported", lambda cfg: "a plugin for this test")
    plain = build_site(settings(tmp_path, flows, "plain"))
    assert (plain.pages_rendered, plain.pages_linked) == (0, 0)
    assert snapshot(tmp_path / "plain" / "site") == got


def test_a_new_flow_converts_its_pages_and_the_index_only(tmp_path: Path):
    flows = copy_flows(tmp_path / "flows")
    s = settings(tmp_path, flows)
    first = build_site(s)
    text = (flows / FLOW).read_text(encoding="utf-8")
    (flows / "copied.yaml").write_text(re.sub(r"^id: .*$", "id: copied-flow", text, count=1, flags=re.M),
                                       encoding="utf-8")
    again = build_site(s)
    new_pages = len(list((s.out_dir / "copied-flow").rglob("index.html")))
    assert new_pages >= 2 and (s.out_dir / "copied-flow" / "latest" / "index.html").is_file()
    # the new flow's pages and the index; every other page linked as it was
    assert again.pages_converted == again.pages_rendered == new_pages + 1
    assert again.pages_linked == doc_pages(first) - 1


def _project(tmp_path: Path, extra: str = "", page: str | None = None) -> Path:
    """A copy of the site project (mkdocs.yml and docs/), with ``extra`` configuration and a page."""
    proj = tmp_path / "project"
    shutil.copytree(SITE_CONFIG.parent, proj, dirs_exist_ok=True)
    cfg = proj / "mkdocs.yml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + extra, encoding="utf-8")
    if page is not None:
        (proj / "docs" / "notes.md").write_text(page, encoding="utf-8")
    return cfg


def test_warnings_of_a_reused_page_are_logged_again_and_strict_fails(tmp_path: Path):
    flows = copy_flows(tmp_path / "flows")
    cfg = _project(tmp_path, page="# Notes\n\nSee [the missing page](missing-page.md).\n")
    s = settings(tmp_path, flows, config_file=cfg)
    first = build_site(s)
    warned = [w for w in first.warnings if "missing-page.md" in w]
    assert len(warned) == 1 and warned[0].startswith("WARNING")
    retitle(flows)
    again = build_site(s)
    assert again.pages_converted == 4  # notes.md came from the cache, and so did its warning
    assert [w for w in again.warnings if "missing-page.md" in w] == warned
    s.strict = True
    with pytest.raises(PublishError) as err:
        build_site(s)
    assert "strict mode" in err.value.message and "missing-page.md" in err.value.message


def test_a_plugin_flowdoc_does_not_know_gets_mkdocs_own_build(tmp_path: Path):
    flows = copy_flows(tmp_path / "flows")
    cfg = _project(tmp_path, extra="hooks:\n  - hooks.py\n")
    (cfg.parent / "hooks.py").write_text(
        "def on_page_markdown(markdown, page, **kwargs):\n    return markdown + '\\n\\nHOOKED-BY-TEST\\n'\n",
        encoding="utf-8",
    )
    s = settings(tmp_path, flows, config_file=cfg)
    r = build_site(s)
    assert (r.pages_converted, r.pages_rendered, r.pages_linked) == (0, 0, 0)
    assert any(w.startswith("INFO") and "hooks" in w for w in r.warnings)
    assert "HOOKED-BY-TEST" in (s.out_dir / "introduction" / "index.html").read_text(encoding="utf-8")
    retitle(flows)
    again = build_site(s)
    assert again.pages_linked == 0
    assert "Renamed" in (s.out_dir / "client-credentials" / "latest" / "index.html").read_text(encoding="utf-8")


def _damage(entries: list[Path]) -> None:
    for i, p in enumerate(entries):
        if i % 2:
            p.write_bytes(b"\xff not json")
        else:  # a header that reads, the HTML after it changed
            head, _, body = p.read_bytes().partition(b"\n")
            p.write_bytes(head + b"\n" + body.replace(b"<", b"[", 5))


def test_damaged_page_cache_entries_are_made_again(tmp_path: Path):
    flows = copy_flows(tmp_path / "flows")
    s = settings(tmp_path, flows)
    first = build_site(s)
    conv = sorted(p for p in (tmp_path / "a" / "cache" / "pages" / "conv").rglob("*") if p.is_file())
    out = sorted(p for p in (tmp_path / "a" / "cache" / "pages" / "out").rglob("*") if p.is_file())
    assert len(conv) == len(out) == doc_pages(first)
    _damage(conv)
    for p in out[::3]:
        p.write_text('{"search": "not a list"}', encoding="utf-8")
    (tmp_path / "a" / "cache" / "pages" / "site.json").write_text("[1, 2", encoding="utf-8")
    retitle(flows)
    again = build_site(s)
    assert again.cache_reset is None
    assert again.pages_converted >= len(conv) // 2 and again.pages_linked == 0
    clean = build_site(settings(tmp_path, flows, "clean"))
    assert snapshot(s.out_dir) == snapshot(tmp_path / "clean" / "site")
    assert clean.pages_rendered == again.pages_rendered


def test_pages_whose_record_is_damaged_are_rendered_among_the_linked_ones(tmp_path: Path):
    """A rebuild links the unchanged pages while the changed ones are rendered in workers; a page
    whose record in the store is damaged is rendered here instead, and its search entries go in
    their place between the others'."""
    flows = copy_flows(tmp_path / "flows")
    s = settings(tmp_path, flows)
    first = build_site(s)
    out = sorted(p for p in (tmp_path / "a" / "cache" / "pages" / "out").rglob("*") if p.is_file())
    for p in out[1::4]:
        p.write_text('{"index": "[not json", "site": null, "logs": [], "sha256": "0"}', encoding="utf-8")
    retitle(flows)
    again = build_site(s)
    assert doc_pages(first) - 4 >= 20  # enough unchanged pages to link while the workers render
    assert again.cache_reset is None and again.pages_converted == 4
    assert 4 < again.pages_rendered and again.pages_linked > 0 and doc_pages(again) == doc_pages(first)
    build_site(settings(tmp_path, flows, "clean"))
    assert snapshot(s.out_dir) == snapshot(tmp_path / "clean" / "site")
    index = (s.out_dir / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "A changed summary." in index


@pytest.mark.parametrize("theme", ["readthedocs", "material"])
def test_other_themes_give_mkdocs_own_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, theme: str):
    flows = copy_flows(tmp_path / "flows")
    cfg = _project(tmp_path)
    text = cfg.read_text(encoding="utf-8").replace("name: mkdocs", f"name: {theme}")
    cfg.write_text(text + "plugins: []\n", encoding="utf-8")
    r = build_site(settings(tmp_path, flows, config_file=cfg))
    assert r.pages_rendered > 20 and not any("not one flowdoc knows" in w for w in r.warnings)
    monkeypatch.setattr(mkdocs_build, "supported", lambda cfg: "a plugin for this test")
    build_site(settings(tmp_path, flows, "plain", config_file=cfg))
    assert snapshot(tmp_path / "a" / "site") == snapshot(tmp_path / "plain" / "site")


def test_a_front_matter_json_cannot_hold_is_read_again(tmp_path: Path):
    flows = copy_flows(tmp_path / "flows")
    page = "---\ntitle: Release notes\ndate: 2024-01-02\ntags: [a, b]\n---\n\n# Notes\n\nSee [the intro](introduction.md).\n"
    cfg = _project(tmp_path, page=page)
    s = settings(tmp_path, flows, config_file=cfg)
    build_site(s)
    retitle(flows)
    again = build_site(s)
    assert again.pages_converted == 4 and again.pages_linked > 0
    build_site(settings(tmp_path, flows, "clean", config_file=cfg))
    assert snapshot(s.out_dir) == snapshot(tmp_path / "clean" / "site")
    assert "<title>Release notes" in (s.out_dir / "notes" / "index.html").read_text(encoding="utf-8")


EXIT_EXTENSION = '''
import os
from markdown import Extension
from markdown.preprocessors import Preprocessor


class _Exit(Preprocessor):
    def run(self, lines):
        if os.getpid() != int(os.environ["PARENT_PID"]):
            open(os.environ["DIED"], "w").close()
            os._exit(3)  # a worker dies (as one killed for memory does)
        return lines


class ExitInWorkers(Extension):
    def extendMarkdown(self, md):
        md.preprocessors.register(_Exit(md), "exit_in_workers", 100)


def makeExtension(**kwargs):
    return ExitInWorkers(**kwargs)
'''

BUILD = '''
import os, sys
from flowdoc.publish import BuildSettings, build_site
os.environ["PARENT_PID"] = str(os.getpid())
from contextlib import nullcontext
from flowdoc.publish.pagework import in_process
with in_process() if sys.argv[5:] == ["in-process"] else nullcontext():
    r = build_site(BuildSettings(flows_dir=sys.argv[1], out_dir=sys.argv[2], config_file=sys.argv[3],
                                 mermaid_js=sys.argv[4]))
print(r.pages_converted, r.pages_rendered, r.pages_linked)
'''


def _build_with_workers_that_die(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, Path, Path]:
    """A build in a process of its own, with a Markdown extension that ends any worker process."""
    flows = copy_flows(tmp_path / "flows")
    cfg = _project(tmp_path)
    (cfg.parent / "exit_in_workers.py").write_text(EXIT_EXTENSION, encoding="utf-8")
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text.replace("  - flowdoc.publish.markdown\n", "  - flowdoc.publish.markdown\n  - exit_in_workers\n"),
                   encoding="utf-8")
    died = tmp_path / "a-worker-died"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(cfg.parent)]), "DIED": str(died)}
    out = tmp_path / "out" / "site"
    r = subprocess.run([sys.executable, "-c", BUILD, str(flows), str(out), str(cfg), str(MERMAID_JS), *extra],
                       capture_output=True, text=True, env=env, timeout=300)  # a hang guard, not a speed limit
    return r, died, out


def test_inside_in_process_no_page_goes_to_a_worker(tmp_path: Path):
    # flowdoc serve builds inside in_process(): fork is not safe beside its server's threads
    r, died, out = _build_with_workers_that_die(tmp_path, "in-process")
    assert r.returncode == 0, r.stdout + r.stderr
    converted, rendered, linked = map(int, r.stdout.split()[-3:])
    assert not died.exists() and converted == rendered > 20 and linked == 0
    assert (out / "client-credentials" / "latest" / "index.html").is_file()


def test_a_worker_that_dies_leaves_its_pages_to_the_build(tmp_path: Path):
    r, died, out = _build_with_workers_that_die(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    converted, rendered, linked = map(int, r.stdout.split()[-3:])
    assert died.is_file() and converted == rendered > 20 and linked == 0
    assert (out / "client-credentials" / "latest" / "index.html").is_file()
