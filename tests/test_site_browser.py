"""Hostile flows in a real browser: headless Debian chromium driven by Playwright.

A site built from flows whose every text holds the injection corpus runs nothing and reads
literally, and its Content-Security-Policy stops what escaping would let through. (The example
site as a reader sees it — every page drawn, links, banners, both themes, both widths, offline —
is tests/test_site_reader.py.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flowdoc.publish import BuildSettings, build_site
from tests.support.site_browser import DRAWN, Visit, serve

ROOT = Path(__file__).resolve().parent.parent
MERMAID_JS = ROOT / "tests" / "node" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser(chromium):
    return chromium


# ------------------------------------------------------------- script injection
#
# A site built from flows whose every text field holds the injection corpus (tests/data/
# render/injection.py): <img onerror>, <script>, attr_list's {: onfocus=... }, javascript:
# links, Markdown link and image syntax, {{ }}. No dialog may open, no element may get an
# event handler, every text must be on the page as written, and the Content-Security-Policy
# of each page must stop a handler that would get through.

from tests.data.render.injection import ODD_URLS, TEXTS  # noqa: E402
from tests.flowkit import base, to_yaml  # noqa: E402

INJECTED_FLOWS = 6
HANDLERS = ["onerror", "onfocus", "onclick", "onmouseover", "onload", "autofocus", "tabindex", "onbegin"]


def _texts(k: int) -> list[str]:
    return [TEXTS[(k * 5 + j) % len(TEXTS)] for j in range(len(TEXTS))]


def injected_flow(k: int) -> tuple[dict, dict[str, list[str]]]:
    """Flow k with corpus texts in every field; also which texts its pages must show."""
    t = _texts(k)
    data = base()
    data["id"] = f"injected-{k}"
    data["title"] = t[0]
    data["summary"] = t[1]
    data["actors"]["app"]["name"] = t[2]
    data["states"][0]["title"] = t[3]
    step = data["transitions"][0]
    step["title"] = t[4]
    step["failures"][0].update(title=t[5], when=t[6], remedy=t[7])
    data["states"][1]["handoff"] = t[8]
    data["changelog"][0]["notes"] = [t[9], t[10]]
    data["troubleshooting"] = [{"error": "e_x", "cause": t[11], "remedy": t[12]}]
    data["lifecycle"]["notes"] = t[13]
    data["links"] = {"authorization_guide": ODD_URLS[k % len(ODD_URLS)], "related": {t[14]: ODD_URLS[(k + 1) % len(ODD_URLS)]}}
    page = [t[j] for j in range(15)]
    return data, {f"injected-{k}/latest/": page, f"injected-{k}/changelog/": [t[0], t[9], t[10]]}


@pytest.fixture(scope="module")
def injected_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("injected")
    (tmp / "flows").mkdir()
    expect: dict[str, list[str]] = {"": []}
    for k in range(INJECTED_FLOWS):
        data, pages = injected_flow(k)
        (tmp / "flows" / f"injected-{k}.yaml").write_text(to_yaml(data), encoding="utf-8")
        expect.update(pages)
        expect[""].append(data["title"])
    # an older, deprecated version: the banner's reason and migration text
    old, _ = injected_flow(0)
    old.update(version="0.9.0", status="deprecated")
    old["changelog"] = [{"version": "0.9.0", "notes": [TEXTS[1]]}]
    old["deprecation"] = {"replaced_by": "injected-1", "migration": TEXTS[2], "reason": TEXTS[3]}
    (tmp / "flows" / "injected-0.v0.yaml").write_text(to_yaml(old), encoding="utf-8")
    expect["injected-0/v0/"] = [TEXTS[2], TEXTS[3]]
    settings = BuildSettings(
        flows_dir=tmp / "flows",
        out_dir=tmp / "out" / "site",
        config_file=ROOT / "site" / "mkdocs.yml",
        mermaid_js=str(MERMAID_JS),
    )
    build_site(settings)
    with serve(settings.out_dir) as base:
        yield {"base": base, "out": settings.out_dir, "expect": expect}


def _words(text: str) -> str:
    return " ".join(text.split())


def test_injection_corpus_runs_nothing_and_reads_literally(injected_site, browser):
    visit = Visit(browser, injected_site["base"])
    dialogs: list[str] = []
    try:
        for path, texts in injected_site["expect"].items():
            page = visit.context.new_page()
            page.on("dialog", lambda d: (dialogs.append(f"{d.type}: {d.message}"), d.dismiss()))
            page.on("console", lambda m, path=path: m.type == "error"
                    and visit.problems.append(f"{path}: console error: {m.text}"))
            page.on("pageerror", lambda e, path=path: visit.problems.append(f"{path}: page error: {e}"))
            assert page.goto(injected_site["base"] + path).status == 200, path
            page.wait_for_function(DRAWN, timeout=30_000)
            assert page.locator(".flowdoc-diagram-error").count() == 0, path
            csp = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0], csp
            # hover and focus everything: a handler that got through would run now
            page.keyboard.press("Tab")
            page.evaluate(
                """() => document.querySelectorAll('[role=main] *').forEach(e => {
                     for (const t of ['mouseover', 'mouseenter', 'focus', 'focusin']) e.dispatchEvent(new Event(t)); })"""
            )
            bad = page.evaluate(
                """(names) => [...document.querySelectorAll('*')].flatMap(e =>
                     [...e.attributes].filter(a => a.name.startsWith('on')
                        || (names.includes(a.name) && e.closest('[role=main]') && !e.matches('.flowdoc-diagram-view'))
                        || (['href', 'src', 'xlink:href'].includes(a.name) && /^\\s*(javascript|data|vbscript):/i.test(a.value)))
                       .map(a => e.tagName + ' ' + a.name + '=' + a.value))""",
                HANDLERS,
            )
            assert bad == [], (path, bad)
            body = _words(page.locator("body").inner_text())
            for text in texts:
                assert _words(text) in body, (path, text)
            if path.endswith("/latest/"):
                h1 = page.locator("[role=main] h1").first
                assert _words(h1.inner_text()).startswith(_words(texts[0])), path
                assert sorted(h1.evaluate("e => [...e.attributes].map(a => a.name)")) == ["id"]
            page.close()
    finally:
        visit.close()
    assert dialogs == []
    assert visit.problems == [], "\n".join(visit.problems)


def test_content_security_policy_stops_a_handler_that_gets_through(injected_site, browser):
    """Should escaping ever fail, the policy of the page still runs no inline handler, no
    javascript: URL and no inline script: a built page with those spliced in runs none."""
    out: Path = injected_site["out"]
    page_file = out / "injected-1" / "latest" / "index.html"
    html = page_file.read_text(encoding="utf-8")
    evil = (
        '<img id="x1" src="x" onerror="alert(\'onerror\')">'
        '<a id="x2" href="javascript:alert(\'js-url\')">go</a>'
        "<script>alert('inline')</script>"
    )
    spliced = out / "spliced.html"
    spliced.write_text(html.replace('<div class="col-md-9" role="main">', '<div class="col-md-9" role="main">' + evil, 1), encoding="utf-8")
    visit = Visit(browser, injected_site["base"])
    dialogs: list[str] = []
    refused: list[str] = []
    try:
        page = visit.context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: "Content Security Policy" in m.text and refused.append(m.text))
        page.goto(injected_site["base"] + "spliced.html")
        page.wait_for_function("() => document.querySelector('.flowdoc-diagram-view svg')", timeout=30_000)
        page.click("#x2")
        page.wait_for_timeout(500)
        page.close()
    finally:
        visit.close()
        spliced.unlink()
    assert dialogs == []
    assert len(refused) >= 3, refused  # the handler, the javascript: URL and the inline script
