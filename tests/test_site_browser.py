"""The example site in a real browser: headless Debian chromium driven by Playwright.

The site is built from flows/ and site/ with the local mermaid.js, served on 127.0.0.1 by
the standard library, and every page is opened: its Mermaid diagrams must have become SVG
(and not Mermaid's error picture), the console must have no error, no request may leave
127.0.0.1, every link between the site's pages must resolve, and the banner must show on
the older and deprecated versions, and only there.
"""

from __future__ import annotations

import functools
import shutil
import threading
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from flowdoc.publish import BuildSettings, build_site, load_site
from flowdoc.model.version import Version
from flowdoc.publish.pages import is_deprecated, major_of

ROOT = Path(__file__).resolve().parent.parent
MERMAID_JS = ROOT / "tests" / "node" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path("/tmp/flowdoc-site-v1.png")

pytestmark = pytest.mark.slow


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    shutil.copytree(ROOT / "flows", tmp / "flows")
    settings = BuildSettings(
        flows_dir=tmp / "flows",
        out_dir=tmp / "out" / "site",
        config_file=ROOT / "site" / "mkdocs.yml",
        mermaid_js=str(MERMAID_JS),
        strict=True,
    )
    build_site(settings)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(settings.out_dir)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield {
            "base": f"http://127.0.0.1:{httpd.server_address[1]}/",
            "out": settings.out_dir,
            "model": load_site(tmp / "flows"),
        }
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Visit:
    """One browser context that may only talk to the site; records what went wrong."""

    def __init__(self, browser, base: str):
        self.base = base
        self.problems: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.base) or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            self.problems.append(f"request outside the site: {url}")
            route.abort()

    def _failed(self, path: str, request) -> None:
        # a fetch still running when the test leaves the page (search index) is aborted: not a fault
        if request.failure != "net::ERR_ABORTED" or not request.url.startswith(self.base):
            self.problems.append(f"{path}: request failed: {request.url} ({request.failure})")

    def open(self, path: str):
        page = self.context.new_page()
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"{path}: console error: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"{path}: page error: {e}"))
        page.on("requestfailed", lambda r: self._failed(path, r))
        page.on(
            "response",
            lambda r: r.status >= 400 and self.problems.append(f"{path}: HTTP {r.status} for {r.url}"),
        )
        response = page.goto(self.base + path)
        assert response is not None and response.status == 200, path
        # Mermaid draws every pre.mermaid: wait for all of them to hold an SVG
        page.wait_for_function(
            "() => [...document.querySelectorAll('pre.mermaid')].every(e => e.querySelector('svg'))",
            timeout=30_000,
        )
        return page

    def close(self):
        self.context.close()


def html_pages(out: Path) -> list[str]:
    pages = []
    for f in sorted(out.rglob("index.html")):
        rel = f.parent.relative_to(out).as_posix()
        pages.append("" if rel == "." else rel + "/")
    return pages


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_every_page_draws_its_diagrams_without_errors_and_links_resolve(site, browser):
    visit = Visit(browser, site["base"])
    pages = html_pages(site["out"])
    assert "authorization-code-pkce/v1/" in pages and "" in pages and len(pages) >= 18
    diagrams = 0
    links: set[str] = set()
    try:
        for path in pages:
            page = visit.open(path)
            svgs = page.locator("pre.mermaid svg")
            n = page.locator("pre.mermaid").count()
            assert svgs.count() == n, path
            # Mermaid draws a picture with aria-roledescription="error" for a diagram it cannot parse
            assert page.locator('pre.mermaid svg[aria-roledescription="error"]').count() == 0, path
            for i in range(n):
                box = svgs.nth(i).bounding_box()
                assert box and box["width"] > 50 and box["height"] > 50, (path, i)
            diagrams += n
            if "/latest/" in f"/{path}" or "/v" in f"/{path}":
                assert page.locator(".flowdoc-versions").count() == 1, path
            links |= set(
                page.eval_on_selector_all(
                    "a[href]", "els => els.map(a => a.href.split('#')[0]).filter(h => h.startsWith('http'))"
                )
            )
            page.close()
    finally:
        visit.close()
    assert visit.problems == [], "\n".join(visit.problems)
    assert diagrams >= 3 * 5
    internal = sorted(u for u in links if u.startswith(site["base"]))
    assert any(u.endswith("/authorization-code-pkce/v1/") for u in internal)
    broken = [u for u in internal if status_of(u) != 200]
    assert broken == []


def test_version_selector_and_banners(site, browser):
    model = site["model"]
    visit = Visit(browser, site["base"])
    try:
        # every version page: a banner exactly on the older or deprecated versions
        expected_banners = 0
        for fid, fv in model.entries.items():
            for major, flow in fv.majors():
                page = visit.open(f"{fid}/v{major}/")
                older = Version.key(flow.version) < Version.key(fv.latest.version)
                want = "deprecated" if is_deprecated(flow) else ("older" if older else None)
                banner = page.locator(".flowdoc-banner")
                if want is None:
                    assert banner.count() == 0, (fid, major)
                else:
                    expected_banners += 1
                    assert banner.count() == 1 and banner.is_visible(), (fid, major)
                    assert f"flowdoc-banner-{want}" in banner.get_attribute("class")
                    # the migration link: to what changed, and it resolves
                    what_changed = banner.get_by_role("link", name="what changed")
                    assert status_of(what_changed.evaluate("a => a.href")) == 200
                page.close()
        assert expected_banners >= 1

        # the selector: from the latest page to v1, whose banner links back to the latest
        page = visit.open("authorization-code-pkce/latest/")
        assert page.locator(".flowdoc-banner").count() == 0
        selector = page.locator(".flowdoc-versions")
        assert selector.locator(".flowdoc-current").inner_text().startswith("latest (")
        selector.get_by_role("link", name="v1 (deprecated)").click()
        page.wait_for_url("**/authorization-code-pkce/v1/")
        page.wait_for_function(
            "() => [...document.querySelectorAll('pre.mermaid')].every(e => e.querySelector('svg'))"
        )
        banner = page.locator(".flowdoc-banner-deprecated")
        assert banner.is_visible()
        assert "Deprecated." in banner.inner_text() and "Migration:" in banner.inner_text()
        page.screenshot(path=str(SCREENSHOT))
        banner.get_by_role("link", name="Sign in with the authorization code flow, PKCE and state").click()
        page.wait_for_url("**/authorization-code-pkce/latest/")
        assert page.locator(".flowdoc-banner").count() == 0
        page.close()

        # the index lists every flow with its status, latest version and date
        page = visit.open("")
        table = page.locator("[role=main] table")
        assert table.locator("tbody tr").count() == len(model.entries)
        text = table.inner_text()
        for fv in model.entries.values():
            assert fv.latest.title in text and fv.latest.version in text
            assert fv.latest.updated.isoformat() in text
        page.close()
    finally:
        visit.close()
    assert visit.problems == [], "\n".join(visit.problems)
    assert SCREENSHOT.stat().st_size > 10_000
    assert major_of(model.entries["authorization-code-pkce"].latest) == 3


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
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(settings.out_dir)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"base": f"http://127.0.0.1:{httpd.server_address[1]}/", "out": settings.out_dir, "expect": expect}
    finally:
        httpd.shutdown()
        httpd.server_close()


def _words(text: str) -> str:
    return " ".join(text.split())


def test_injection_corpus_runs_nothing_and_reads_literally(injected_site, browser):
    visit = Visit(browser, injected_site["base"])
    dialogs: list[str] = []
    try:
        for path, texts in injected_site["expect"].items():
            page = visit.context.new_page()
            page.on("dialog", lambda d: (dialogs.append(f"{d.type}: {d.message}"), d.dismiss()))
            page.on("console", lambda m: m.type == "error" and visit.problems.append(f"{path}: console error: {m.text}"))
            page.on("pageerror", lambda e: visit.problems.append(f"{path}: page error: {e}"))
            assert page.goto(injected_site["base"] + path).status == 200, path
            page.wait_for_function(
                "() => [...document.querySelectorAll('pre.mermaid')].every(e => e.querySelector('svg'))",
                timeout=30_000,
            )
            assert page.locator('pre.mermaid svg[aria-roledescription="error"]').count() == 0, path
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
                        || (names.includes(a.name) && e.closest('[role=main]'))
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
        page.wait_for_function("() => document.querySelector('pre.mermaid svg')", timeout=30_000)
        page.click("#x2")
        page.wait_for_timeout(500)
        page.close()
    finally:
        visit.close()
        spliced.unlink()
    assert dialogs == []
    assert len(refused) >= 3, refused  # the handler, the javascript: URL and the inline script
