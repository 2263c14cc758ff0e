"""The example site as a reader sees it, on a desktop (1280 px) and a phone (390 px), in MkDocs'
default theme (``flowdoc build``) and in mkdocs-material (the MkDocs plugin), with every request
that leaves 127.0.0.1 blocked.

Each site is built once and each page opened once per width (a "tour"); the tests assert over
what the tour measured: no diagram label under 12 px (on a phone a wide diagram scrolls in its
own box), no page wider than the screen, no template internals (``${``, stray backslashes) in
the text, every diagram drawn without the network, no overlapping labels in state diagrams. More
tests drive the page: the full-size view (keyboard), the version menu keeping the section,
search, Mermaid's theme following the palette, the message when Mermaid does not load, and a
site opened from disk (``file://``).

Screenshots of each example flow at both widths, and the numbers measured, are written to
build/screenshots/ (``{theme}-{flow}-{width}.png``, the top of the page, and
``...-sequence.png``, its sequence diagram; ``measurements.json``).
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from flowdoc.model.version import Version
from flowdoc.publish import BuildSettings, build_site, load_site
from flowdoc.publish.pages import is_deprecated
from tests.support.site_browser import DRAWN, MEASURE, OVERLAPS, Visit, serve

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "screenshots"
EXAMPLES = ["authorization-code-pkce", "client-credentials", "gateway-login", "mfa-step-up", "silent-refresh-rotation",
            "device-authorization", "token-introspection-revocation"]
WIDTHS = {"desktop": 1280, "phone": 390}
THEMES = ["mkdocs", "material"]
MIN_LABEL_PX = 12

pytestmark = pytest.mark.slow

MATERIAL_PROJECT = """\
site_name: Authentication flows (Material)
docs_dir: docs
theme:
  name: material
  palette:
    - scheme: default
      toggle: {icon: material/brightness-7, name: Switch to dark mode}
    - scheme: slate
      toggle: {icon: material/brightness-4, name: Switch to light mode}
markdown_extensions:
  - admonition
plugins:
  - search
  - flowdoc:
      flows_dir: flows
      prefix: flows
"""


def _material_site(tmp: Path) -> Path:
    """A Material project with the plugin, its defaults (Mermaid shipped with flowdoc, offline) and
    an automatic navigation, built in this process."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    project = tmp / "material"
    (project / "docs").mkdir(parents=True)
    (project / "docs" / "index.md").write_text("# Home\n\nThe [flows](flows/index.md).\n", encoding="utf-8")
    shutil.copytree(ROOT / "flows", project / "flows")
    (project / "mkdocs.yml").write_text(MATERIAL_PROJECT, encoding="utf-8")
    cfg = load_config(str(project / "mkdocs.yml"), site_dir=str(project / "site"), strict=True)
    build(cfg)
    return project / "site"


def _default_site(tmp: Path, **kw) -> Path:
    """``flowdoc build`` of the example project (site/mkdocs.yml), Mermaid not named: the default."""
    flows = tmp / "flows"
    if not flows.exists():
        shutil.copytree(ROOT / "flows", flows)
    out = tmp / kw.pop("name", "out") / "site"
    build_site(BuildSettings(flows_dir=flows, out_dir=out, config_file=ROOT / "site" / "mkdocs.yml", strict=True, **kw))
    return out


def _pages(out: Path, prefix: str) -> list[str]:
    """Every page of the site: the index of flows, every page of each example flow (latest,
    versions, changelog), and the project's own pages."""
    root = out / prefix if prefix else out
    pages = [prefix]
    for fid in EXAMPLES:
        pages += [f"{prefix}{fid}/{f.parent.name}/" for f in sorted((root / fid).glob("*/index.html"))]
    own = [f.parent.relative_to(out).as_posix() + "/" for f in sorted(out.glob("*/index.html"))]
    return pages + [p for p in own if p not in pages and not p.startswith(("search/", prefix or "//"))
                    and p.split("/")[0] not in EXAMPLES]


def _tour(browser, base: str, out: Path, prefix: str, theme: str) -> dict:
    """Open each page once per width; measure, take the screenshots."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    tour: dict = {"pages": {}, "problems": [], "outside": [], "prefix": prefix, "base": base, "out": out}
    every = _pages(out, prefix)
    for name, width in WIDTHS.items():
        phone_pages = [p for p in every if p.endswith("/latest/") or p == prefix or p.endswith("pkce/v1/")]
        visit = Visit(browser, base, width=width, height=844 if name == "phone" else 900)
        try:
            for path in every if name == "desktop" else phone_pages:
                page = visit.open(path)
                m = page.evaluate(MEASURE)
                m["overlaps"] = page.evaluate(OVERLAPS)
                m["canonical"] = page.evaluate("() => { const l = document.querySelector('link[rel=canonical]'); return l && l.href; }")
                m["nav"] = page.evaluate("() => [...document.querySelectorAll('.md-nav__link, .nav-link, .dropdown-item')].map(a => a.textContent.trim().replace(/\\s+/g, ' '))")
                if path == prefix:  # the index of flows: its table's rows
                    m["rows"] = page.eval_on_selector_all("table tbody tr", "trs => trs.map(tr => tr.innerText)")
                if name == "desktop":
                    m.update(page.evaluate(PAGE_PARTS))
                tour["pages"][(width, path)] = m
                flow = path[len(prefix):].split("/")[0]
                if path.endswith("/latest/") and flow in EXAMPLES:
                    page.screenshot(path=str(SHOTS / f"{theme}-{flow}-{width}.png"))
                    page.evaluate("() => window.scrollTo({top: document.querySelector('#sequence').getBoundingClientRect().top + scrollY - 64, behavior: 'instant'})")
                    page.screenshot(path=str(SHOTS / f"{theme}-{flow}-{width}-sequence.png"))
                page.close()
        finally:
            visit.close()
        tour["problems"] += visit.problems
        tour["outside"] += visit.outside
    return tour


#: The parts of a page the version tests look at: banners, the version menu, the links.
PAGE_PARTS = """() => ({
  banners: [...document.querySelectorAll('.flowdoc-banner')].map(b => ({cls: b.className, text: b.innerText,
    links: [...b.querySelectorAll('a')].map(a => [a.textContent.trim(), a.href])})),
  menus: document.querySelectorAll('.flowdoc-versions').length,
  current: (document.querySelector('.flowdoc-versions .flowdoc-current') || {}).textContent || null,
  links: [...new Set([...document.querySelectorAll('a[href]')].map(a => a.href.split('#')[0]).filter(h => h.startsWith('http')))],
})"""


def _summary(tours: dict) -> dict:
    out = {}
    for theme, tour in tours.items():
        for (width, path), m in tour["pages"].items():
            labels = [d["minLabel"] for d in m["diagrams"] if d.get("drawn") and d["labels"]]
            out[f"{theme} {width} /{path}"] = {
                "scroll_width": m["scrollWidth"], "height": m["height"],
                "smallest_label_px": round(min(labels), 1) if labels else None,
                "diagrams": len(m["diagrams"]),
            }
    return out


@pytest.fixture(scope="module")
def tours(chromium, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reader")
    sites = {"mkdocs": (_default_site(tmp), ""), "material": (_material_site(tmp), "flows/")}
    result = {}
    for theme, (out, prefix) in sites.items():
        with serve(out) as base:
            result[theme] = _tour(chromium, base, out, prefix, theme)
    (SHOTS / "measurements.json").write_text(json.dumps(_summary(result), indent=1), encoding="utf-8")
    return result


@pytest.fixture(scope="module")
def sites(tours):
    """The built sites again, served, for the tests that drive a page."""
    return {theme: (t["out"], t["prefix"]) for theme, t in tours.items()}


# ----------------------------------------------------------------- what the tour saw


@pytest.mark.parametrize("theme", THEMES)
def test_every_page_draws_every_diagram_with_outside_requests_blocked(tours, theme):
    tour = tours[theme]
    assert tour["outside"] == [], tour["outside"][:5]  # nothing asked for the network
    assert tour["problems"] == [], "\n".join(tour["problems"][:10])
    examples = [p for (w, p) in tour["pages"] if p.endswith("/latest/")]
    assert len(examples) >= len(EXAMPLES)
    for (width, path), m in tour["pages"].items():
        assert m["errors"] == [], (theme, width, path, m["errors"])
        assert len(m["diagrams"]) == m["sources"], (theme, width, path)
        assert all(d["drawn"] for d in m["diagrams"]), (theme, width, path)
        if path.endswith("/latest/"):
            assert len(m["diagrams"]) == 3, (theme, path)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("theme", THEMES)
def test_links_between_pages_resolve(tours, theme):
    tour = tours[theme]
    links = sorted({u for (w, p), m in tour["pages"].items() if w == 1280 for u in m["links"] if u.startswith(tour["base"])})
    assert any(u.endswith("/authorization-code-pkce/v1/") for u in links)
    with serve(tour["out"]) as base:
        broken = [u for u in links if _status(base + u[len(tour["base"]):]) != 200]
    assert broken == []


@pytest.mark.parametrize("theme", THEMES)
def test_banner_on_older_and_deprecated_versions_only_and_a_version_menu_on_each_flow_page(tours, theme):
    tour, pre = tours[theme], tours[theme]["prefix"]
    model = load_site(ROOT / "flows")
    banners = 0
    for fid, fv in model.entries.items():
        latest = tour["pages"][(1280, f"{pre}{fid}/latest/")]
        assert latest["banners"] == [] and latest["menus"] == 1 and latest["current"].startswith("latest (")
        for major, flow in fv.majors():
            m = tour["pages"][(1280, f"{pre}{fid}/v{major}/")]
            assert m["menus"] == 1 and m["current"].startswith(f"v{major}")
            older = Version.key(flow.version) < Version.key(fv.latest.version)
            want = "deprecated" if is_deprecated(flow) else ("older" if older else None)
            if want is None:
                assert m["banners"] == [], (fid, major)
                continue
            banners += 1
            [banner] = m["banners"]
            assert f"flowdoc-banner-{want}" in banner["cls"] and "Migration:" in banner["text"]
            links = dict(banner["links"])
            assert links["what changed"].endswith(f"/{fid}/changelog/")
            if want == "deprecated" and flow.deprecation and flow.deprecation.replaced_by in model.entries:
                target = model.entries[flow.deprecation.replaced_by]
                assert links[target.latest.title].endswith(f"/{target.id}/latest/")
    assert banners >= 1


@pytest.mark.parametrize("width", WIDTHS.values())
@pytest.mark.parametrize("theme", THEMES)
def test_no_page_is_wider_than_the_screen(tours, theme, width):
    for (w, path), m in tours[theme]["pages"].items():
        if w == width:
            assert m["scrollWidth"] <= m["innerWidth"], (theme, width, path, m["scrollWidth"])


@pytest.mark.parametrize("width", WIDTHS.values())
@pytest.mark.parametrize("theme", THEMES)
def test_diagram_labels_are_readable_and_wide_diagrams_scroll_in_their_box(tours, theme, width):
    seen = 0
    for (w, path), m in tours[theme]["pages"].items():
        if w != width:
            continue
        for d in m["diagrams"]:
            assert d["labels"] > 0, (path, d)
            assert d["minLabel"] >= MIN_LABEL_PX - 0.05, (theme, width, path, d["kind"], d["minLabel"])
            if d["hidden"]:
                continue  # folded away (a closed <details>): fitted when opened
            assert d["boxWidth"] <= m["innerWidth"], (path, d)
            if d["svgWidth"] > d["boxWidth"] + 1:
                assert d["scrolls"] and d["overflowX"] in ("auto", "scroll"), (theme, width, path, d)
            seen += 1
    assert seen >= 2 * len(EXAMPLES)


@pytest.mark.parametrize("theme", THEMES)
def test_no_template_internals_or_escape_artifacts_in_the_text(tours, theme):
    for (_width, path), m in tours[theme]["pages"].items():
        text = m["text"]
        assert "${" not in text, (theme, path, text[text.find("${") - 60: text.find("${") + 60])
        stray = text.find("\\")  # the example flows have no backslash: one on a page is an escape gone wrong
        assert stray < 0, (theme, path, text[max(0, stray - 60): stray + 60])


@pytest.mark.parametrize("theme", THEMES)
def test_state_diagrams_have_no_overlapping_labels(tours, theme):
    seen = 0
    for (width, path), m in tours[theme]["pages"].items():
        if path.endswith("/latest/") or "/v1/" in path:
            assert m["overlaps"], path  # one list per state diagram
            for over in m["overlaps"]:
                assert over == [], (theme, width, path, over)
                seen += 1
    assert seen >= len(EXAMPLES)


def test_copies_of_latest_carry_a_canonical_link_and_the_index_labels_deprecated_versions(tours):
    for theme, tour in tours.items():
        pre = tour["prefix"]
        v3 = tour["pages"][(1280, f"{pre}authorization-code-pkce/v3/")]
        assert v3["canonical"] == tour["base"] + f"{pre}authorization-code-pkce/latest/", theme
        assert tour["pages"][(1280, f"{pre}authorization-code-pkce/v1/")]["canonical"] in (None, tour["base"] + f"{pre}authorization-code-pkce/v1/")
        rows = tour["pages"][(1280, pre)]["rows"]
        row = next(r for r in rows if "Sign in with the authorization code flow" in r)
        assert "v1 (deprecated)" in row and "v3" in row, (theme, row)
        assert not any("deprecated" in r for r in rows if "Service-to-service" in r)


def test_plugin_navigation_uses_flow_titles_latest_first(tours):
    nav = tours["material"]["pages"][(1280, "flows/mfa-step-up/latest/")]["nav"]
    assert "Mfa step up" not in nav and "Multi-factor sign-in with a TOTP step-up" in nav
    pkce = nav.index("Sign in with the authorization code flow, PKCE and state")
    entries = nav[pkce + 1: pkce + 5]
    assert [e.split(" ")[0] for e in entries] == ["Latest", "v3", "v1", "Changelog"], entries
    assert "deprecated" in entries[2] and "deprecated" not in entries[0]


# ------------------------------------------------------------ driving a page


def _open(chromium, site: tuple[Path, str], path: str, **kw):
    out, prefix = site
    ctx = serve(out)
    base = ctx.__enter__()
    visit = Visit(chromium, base, **kw)
    page = visit.open(prefix + path)
    return ctx, visit, page


def _close(ctx, visit) -> list[str]:
    visit.close()
    ctx.__exit__(None, None, None)
    return visit.problems


@pytest.mark.parametrize("theme", THEMES)
def test_full_size_view_opens_zooms_pans_with_the_keyboard_and_closes_with_escape(chromium, sites, theme):
    ctx, visit, page = _open(chromium, sites[theme], "gateway-login/latest/", width=390, height=844)
    try:
        button = page.locator(".flowdoc-diagram-open").first
        button.focus()
        page.keyboard.press("Enter")
        dialog = page.locator("dialog.flowdoc-zoom")
        dialog.wait_for(state="visible")
        assert dialog.locator("svg").count() == 1
        stage = dialog.locator(".flowdoc-zoom-stage")
        assert stage.evaluate("e => document.activeElement === e")
        level = dialog.locator(".flowdoc-zoom-level")
        before = int(level.inner_text().rstrip(" %"))
        page.keyboard.press("+")
        assert int(level.inner_text().rstrip(" %")) > before
        left = stage.evaluate("e => e.scrollLeft")
        page.keyboard.press("ArrowRight")
        page.wait_for_function("(l) => document.querySelector('.flowdoc-zoom-stage').scrollLeft > l", arg=left)
        page.keyboard.press("Escape")
        dialog.wait_for(state="hidden")
        assert button.evaluate("e => document.activeElement === e")  # focus back where it was
    finally:
        problems = _close(ctx, visit)
    assert problems == []


@pytest.mark.parametrize("theme", THEMES)
def test_version_menu_keeps_the_section(chromium, sites, theme):
    ctx, visit, page = _open(chromium, sites[theme], "authorization-code-pkce/latest/")
    try:
        page.evaluate("() => window.scrollTo({top: document.querySelector('#failures').getBoundingClientRect().top + scrollY - 60, behavior: 'instant'})")
        page.wait_for_timeout(200)  # the reader reads the section a moment, then goes up to the menu
        page.locator(".flowdoc-versions").get_by_role("link", name="v1 (deprecated)").click()
        page.wait_for_url(re.compile(r".*/authorization-code-pkce/v1/#failures$"))
        page.wait_for_function(DRAWN)
        page.wait_for_function("() => Math.abs(document.querySelector('#failures').getBoundingClientRect().top) < 200")
        # the deprecated version's banner links back to the flow that replaces it
        banner = page.locator(".flowdoc-banner-deprecated")
        assert banner.is_visible() or banner.count() == 1
        banner.get_by_role("link", name="Sign in with the authorization code flow, PKCE and state").click()
        page.wait_for_url(re.compile(r".*/authorization-code-pkce/latest/$"))
    finally:
        problems = _close(ctx, visit)
    assert problems == []


def _search(page, theme: str, query: str) -> list[tuple[str, str]]:
    """(title, href) of each result of a search typed into the theme's search box (a result
    nested under a page's in mkdocs-material has no title of its own: '')."""
    if theme == "material":
        box, results = "input.md-search__input", ".md-search-result__item > a"
        page.locator(box).click()
    else:
        box, results = "#mkdocs-search-query", "#mkdocs-search-results article h3 a"
        page.locator("a[data-bs-target='#mkdocs_search_modal']").click()
    page.locator(box).press_sequentially(query)
    # the mkdocs theme listens for keys only once its worker has built the index (a larger site
    # takes longer): until results show, a key is released again, as a reader would type on
    page.wait_for_function(
        """([sel, box]) => document.querySelectorAll(sel).length > 0
             || (document.querySelector(box).dispatchEvent(new KeyboardEvent('keyup')), false)""",
        arg=[results, box], timeout=30_000, polling=500)
    page.wait_for_timeout(300)
    return page.eval_on_selector_all(
        results, "as => as.map(a => [((a.querySelector('h1, h2') || a).textContent || '').trim().split('\\n')[0], a.href])")


@pytest.mark.parametrize("theme", THEMES)
def test_search_returns_each_page_once_and_labels_deprecated_versions(chromium, sites, theme):
    ctx, visit, page = _open(chromium, sites[theme], "authorization-code-pkce/latest/")
    try:
        results = _search(page, theme, "implicit")
    finally:
        problems = _close(ctx, visit)
    assert problems == []
    hrefs = [h for _, h in results]
    assert len(hrefs) == len(set(hrefs)), results  # each page (section) once
    assert not any("/authorization-code-pkce/v3/" in h for h in hrefs), results  # the copy of latest is not indexed
    v1 = [(t, h) for t, h in results if "/authorization-code-pkce/v1/" in h]
    assert v1 and all("(v1, deprecated)" in t for t, _ in v1 if t), results
    # a flow page's changelog is found on the changelog page only
    assert not any(re.search(r"/(latest|v\d+)/#v\d", h) for h in hrefs), results


def test_mermaid_follows_the_palette(chromium, sites):
    """Dark palette: Mermaid's dark theme, so alt/else labels are light on dark."""
    def contrast(page) -> float:
        return page.evaluate("""() => {
          const lum = c => { const [r, g, b] = c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map(v => {
              v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
          let el = document.querySelector('.flowdoc-diagram-view'), bg = 'rgb(255, 255, 255)';
          for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
            if (!/rgba\\(.*, 0\\)$/.test(c) && c !== 'transparent') { bg = c; break; } }
          const fg = getComputedStyle(document.querySelector('.flowdoc-diagram-view svg .loopText')).fill;
          const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
          return (a + 0.05) / (b + 0.05); }""")

    ctx, visit, page = _open(chromium, sites["material"], "authorization-code-pkce/latest/")
    try:
        assert contrast(page) >= 4.5
        page.locator("label.md-header__button[for^=__palette]").first.click()
        page.wait_for_function("() => document.body.getAttribute('data-md-color-scheme') === 'slate'")
        page.wait_for_function("() => getComputedStyle(document.querySelector('.flowdoc-diagram-view svg .loopText')).fill !== 'rgb(0, 0, 0)'")
        assert contrast(page) >= 4.5
    finally:
        problems = _close(ctx, visit)
    ctx, visit, page = _open(chromium, sites["mkdocs"], "authorization-code-pkce/latest/")
    try:
        page.evaluate("() => document.documentElement.setAttribute('data-bs-theme', 'dark')")  # the theme's colour mode
        page.wait_for_function("() => getComputedStyle(document.querySelector('.flowdoc-diagram-view svg .loopText')).fill !== 'rgb(0, 0, 0)'")
        assert contrast(page) >= 4.5
    finally:
        problems += _close(ctx, visit)
    assert problems == []


def test_without_mermaid_the_page_says_so_above_the_source(chromium, sites):
    ctx, visit, page = _open(chromium, sites["mkdocs"], "client-credentials/latest/", block=("mermaid.min.js",))
    try:
        page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
        notes = page.locator(".flowdoc-diagram-error")
        assert notes.count() == 3
        for i in range(3):
            note = notes.nth(i)
            assert note.is_visible() and "could not be drawn" in note.inner_text() and "did not load" in note.inner_text()
            # the note sits right above the diagram's source, which stays readable
            assert note.evaluate("n => n.nextElementSibling.matches('pre.flowdoc-mermaid')")
        assert page.locator("pre.flowdoc-mermaid").nth(0).is_visible()
    finally:
        problems = _close(ctx, visit)
    assert problems == []


def test_site_opened_from_disk_works(chromium, tmp_path):
    """``--file-urls``: pages are NAME.html, links land on pages (not folder listings) and the
    diagrams draw, opened with file://."""
    out = _default_site(tmp_path, name="files", file_urls=True)
    assert (out / "authorization-code-pkce" / "latest.html").is_file()
    ctx = chromium.new_context(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    try:
        page = ctx.new_page()
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto((out / "index.html").as_uri())
        page.get_by_role("link", name="Sign in with the authorization code flow, PKCE and state").first.click()
        page.wait_for_url("**/authorization-code-pkce/latest.html")
        page.wait_for_function(DRAWN, timeout=30_000)
        assert page.locator(".flowdoc-diagram-view svg").count() == 3
        assert page.locator(".flowdoc-diagram-error").count() == 0
        page.locator(".flowdoc-versions").get_by_role("link", name="Changelog").click()
        page.wait_for_url("**/authorization-code-pkce/changelog.html")
    finally:
        ctx.close()
    assert problems == []


def test_plugin_with_the_default_theme_needs_no_network(chromium, tmp_path):
    """The plugin turns off the mkdocs theme's highlight.js (a CDN) unless mkdocs.yml sets it:
    offline, no page has 'hljs is not defined'."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    project = tmp_path / "p"
    (project / "docs").mkdir(parents=True)
    (project / "docs" / "index.md").write_text("# Home\n\n```python\nprint(1)\n```\n", encoding="utf-8")
    shutil.copytree(ROOT / "flows", project / "flows")
    (project / "mkdocs.yml").write_text("site_name: P\ntheme: mkdocs\nplugins:\n  - search\n  - flowdoc\n", encoding="utf-8")
    build(load_config(str(project / "mkdocs.yml"), site_dir=str(project / "site")))
    for html in (project / "site").rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        assert "cdnjs" not in text and "highlight.min.js" not in text and "cdn.jsdelivr" not in text, html
    with serve(project / "site") as base:
        visit = Visit(chromium, base)
        try:
            page = visit.open("flows/client-credentials/latest/")
            assert page.locator(".flowdoc-diagram-view svg").count() == 3
        finally:
            visit.close()
    assert visit.outside == [] and visit.problems == []
