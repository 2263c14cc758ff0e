"""A built site in a real browser: Debian's headless chromium driven by Playwright.

- ``chromium``: one browser for the whole test session (a pytest fixture; tests/conftest.py
  registers this module);
- :func:`serve`: a folder on 127.0.0.1 (the standard library's HTTP server);
- :class:`Visit`: a browser context that may talk only to the site (every other request is
  aborted and recorded), collecting console errors, page errors and failed requests;
- :data:`MEASURE`: what a reader sees, measured in the page (labels, widths, text).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

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
#: flowdoc.js sets this attribute on <html> once it has drawn (or failed to draw) every diagram
DRAWN = "() => document.documentElement.getAttribute('data-flowdoc-diagrams') === 'drawn'"


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1; yields the base URL (ending in /)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


class Visit:
    """One browser context that may only talk to the site; records what went wrong.

    ``allow``: URL prefixes besides the site that may load (none by default: every request
    outside 127.0.0.1 is aborted, so nothing ever leaves the machine)."""

    def __init__(self, browser, base: str, *, width: int = 1280, height: int = 900, block: tuple[str, ...] = ()):
        self.base = base
        self.block = block
        self.problems: list[str] = []
        self.outside: list[str] = []
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        local = url.startswith(self.base) or url.startswith(("data:", "blob:"))
        if local and not any(b in url for b in self.block):
            route.continue_()
        else:
            if not local:
                self.outside.append(url)
                self.problems.append(f"request outside the site: {url}")
            route.abort()

    def _failed(self, path: str, request) -> None:
        # a fetch still running when the test leaves the page (search index) is aborted: not a fault
        if any(b in request.url for b in self.block):
            return
        if request.failure != "net::ERR_ABORTED" or not request.url.startswith(self.base):
            self.problems.append(f"{path}: request failed: {request.url} ({request.failure})")

    def new_page(self, path: str):
        page = self.context.new_page()
        page.on("console", lambda m: m.type == "error" and not self._blocked(m.text)
                and self.problems.append(f"{path}: console error: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"{path}: page error: {e}"))
        page.on("requestfailed", lambda r: self._failed(path, r))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"{path}: HTTP {r.status} for {r.url}"))
        return page

    def _blocked(self, text: str) -> bool:
        return "net::ERR_FAILED" in text and bool(self.block)

    def open(self, path: str, *, wait: bool = True):
        page = self.new_page(path)
        response = page.goto(self.base + path)
        assert response is not None and response.status == 200, path
        if wait:
            page.wait_for_function(DRAWN, timeout=30_000)
        return page

    def close(self):
        self.context.close()


#: What a reader sees on a page: the page's scroll width, its height, the visible text, and per
#: diagram its kind, the smallest rendered label (CSS px), the box's width and whether it scrolls.
MEASURE = """() => {
  const out = {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
               height: document.documentElement.scrollHeight, text: document.body.innerText, diagrams: [],
               errors: [...document.querySelectorAll('.flowdoc-diagram-error')].map(e => e.textContent),
               sources: document.querySelectorAll('pre.flowdoc-mermaid').length};
  for (const box of document.querySelectorAll('.flowdoc-diagram')) {
    const view = box.querySelector('.flowdoc-diagram-view');
    const svg = view && view.querySelector('svg');
    if (!svg) { out.diagrams.push({drawn: false}); continue; }
    const vb = svg.viewBox.baseVal;
    const scale = svg.getBoundingClientRect().width / vb.width;
    let min = Infinity, labels = 0;
    for (const el of svg.querySelectorAll('text, tspan, foreignObject *')) {
      const own = [...el.childNodes].some(n => n.nodeType === 3 && n.nodeValue.trim());
      if (!own) continue;
      labels++;
      min = Math.min(min, parseFloat(getComputedStyle(el).fontSize) * scale);
    }
    const hidden = !!box.closest('details:not([open])');
    out.diagrams.push({drawn: true, kind: svg.getAttribute('aria-roledescription'), minLabel: min, labels,
                       hidden, boxWidth: view.getBoundingClientRect().width, svgWidth: svg.getBoundingClientRect().width,
                       scrolls: view.scrollWidth > view.clientWidth + 1, overflowX: getComputedStyle(view).overflowX});
  }
  return out;
}"""

#: Overlapping labels and nodes of each state diagram on the page: [[label, other, dx, dy], ...].
OVERLAPS = """() => [...document.querySelectorAll('.flowdoc-diagram-view svg[aria-roledescription^="stateDiagram"]')].map(svg => {
  const box = e => { const r = e.getBoundingClientRect(); return {t: e.textContent.trim(), x: r.left, y: r.top, w: r.width, h: r.height}; };
  const labels = [...svg.querySelectorAll('g.edgeLabel')].map(box).filter(b => b.w > 2 && b.t);
  const nodes = [...svg.querySelectorAll('g.node')].map(box).filter(b => b.w > 2);
  const all = labels.concat(nodes), over = [];
  labels.forEach((a, i) => all.forEach((b, j) => {
    if (i === j || (j < labels.length && j < i)) return;
    const dx = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x), dy = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
    if (dx > 1 && dy > 1) over.push([a.t, b.t, Math.round(dx), Math.round(dy)]);
  }));
  return over;
})"""
