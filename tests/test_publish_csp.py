"""The Content-Security-Policy of the built site (flowdoc/publish/csp.py): in every page of
`flowdoc build` and of `mkdocs build` with the plugin; the theme's scripts allowed by hash or
origin, nothing inline from a page's content, no inline handlers, no javascript: URLs.
(The browser test, tests/test_site_browser.py, shows Chromium enforcing it.)"""

from __future__ import annotations

import base64
import hashlib
import html as _html
import os
import re
import shutil
import subprocess

import pytest
import yaml
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flowdoc.publish import BuildSettings, build_site  # noqa: E402
from flowdoc.publish.csp import add_csp, policy_for  # noqa: E402

MERMAID_JS = ROOT / "tests" / "node" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')

PAGE = """<!DOCTYPE html>
<html><head>
<meta charset="utf-8">
<title>t</title>
<script src="https://cdn.example.test/mermaid.min.js"></script>
<link rel="stylesheet" href="https://fonts.example.test/css?family=x">
<script>var base_url = "../..";</script>
</head><body><div role="main">CONTENT</div>
<script src="../js/base.js"></script>
</body></html>
"""
CONTENT = '<p>text</p><script>alert("from the content")</script><script src="https://evil.example.test/x.js"></script>'


def sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def test_policy_allows_the_theme_and_nothing_from_the_content():
    page = PAGE.replace("CONTENT", CONTENT)
    d = directives(policy_for(page, CONTENT))
    assert d["default-src"] == ["'self'"]
    assert d["script-src"] == ["'self'", "https://cdn.example.test", sha('var base_url = "../..";')]
    assert "'unsafe-inline'" not in d["script-src"] and "'unsafe-eval'" not in d["script-src"]
    assert d["style-src"] == ["'self'", "'unsafe-inline'", "https://fonts.example.test"]
    assert d["object-src"] == ["'none'"] and d["base-uri"] == ["'self'"]
    # the content's inline script and its script's origin are not allowed
    assert sha('alert("from the content")') not in d["script-src"]
    assert "https://evil.example.test" not in d["script-src"]


def test_meta_tag_goes_after_the_charset_and_only_once():
    page = PAGE.replace("CONTENT", "<p>x</p>")
    out = add_csp(page, "<p>x</p>")
    head = out[: out.index("<title>")]
    assert head.index('<meta charset="utf-8">') < head.index("Content-Security-Policy")
    assert add_csp(out, "<p>x</p>") == out  # a page with a policy keeps it
    assert add_csp("<p>no head</p>") == "<p>no head</p>"
    policy = _html.unescape(META.search(out).group(1))
    assert policy.startswith("default-src 'self'; script-src 'self' https://cdn.example.test 'sha256-")


def test_crlf_scripts_are_hashed_as_the_browser_reads_them():
    page = PAGE.replace('var base_url = "../..";', "a();\r\nb();")
    assert sha("a();\nb();") in policy_for(page)


def _policies(site: Path) -> dict[str, str]:
    out = {}
    for f in sorted(site.rglob("*.html")):
        text = f.read_text(encoding="utf-8")
        m = META.search(text)
        out[f.relative_to(site).as_posix()] = _html.unescape(m.group(1)) if m else ""
    return out


def _check_site(site: Path, mermaid_origin: str | None) -> None:
    policies = _policies(site)
    assert "404.html" in policies and len(policies) >= 10
    for name, policy in policies.items():
        assert policy, f"{name} has no Content-Security-Policy"
        d = directives(policy)
        assert d["script-src"][0] == "'self'" and "'unsafe-inline'" not in d["script-src"], name
        if mermaid_origin:
            assert mermaid_origin in d["script-src"], name
        # every inline script of the page is allowed by its hash (MkDocs' base_url)
        text = (site / name).read_text(encoding="utf-8")
        for script in re.findall(r"<script>(.*?)</script>", text, re.S):
            assert sha(script) in d["script-src"], (name, script[:80])


def test_flowdoc_build_pages_carry_the_policy(tmp_path):
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    out = tmp_path / "out"
    build_site(BuildSettings(flows_dir=tmp_path / "flows", out_dir=out, config_file=ROOT / "site" / "mkdocs.yml"))
    _check_site(out, None)  # the default Mermaid is shipped with flowdoc: scripts from the site only
    assert all(directives(p)["script-src"][0] == "'self'" and "https:" not in " ".join(directives(p)["script-src"])
               for p in _policies(out).values())
    out2 = tmp_path / "out2"
    cdn = "https://cdn.jsdelivr.net/npm/mermaid@11.17.2/dist/mermaid.min.js"
    build_site(BuildSettings(flows_dir=tmp_path / "flows", out_dir=out2, mermaid_js=cdn))
    _check_site(out2, "https://cdn.jsdelivr.net")  # a CDN given as mermaid_js is allowed, and only then


def test_plugin_adds_the_policy_unless_turned_off(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "tests" / "data" / "site_plugin", project)
    shutil.copytree(ROOT / "flows", project / "flows")
    shutil.copy(MERMAID_JS, project / "mermaid.min.js")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}

    def build(config: str, site: str) -> Path:
        r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", config, "-d", site],
                           cwd=project, capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        return project / site

    _check_site(build("mkdocs.yml", "site"), None)
    off = (project / "mkdocs.yml").read_text().replace("mermaid_js: mermaid.min.js", "mermaid_js: mermaid.min.js\n      csp: false")
    (project / "mkdocs-off.yml").write_text(off)
    assert set(_policies(build("mkdocs-off.yml", "site-off")).values()) == {""}


# ------------------------------------------------------------------ the scanner (hostile pages)

THEME_SCRIPT = 'var base_url = "..";'


def _page(middle: str) -> str:
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title><script>' + THEME_SCRIPT
            + '</script></head><body>' + middle + '<script src="../js/base.js"></script></body></html>')


def _scripts(policy: str) -> list[str]:
    return directives(policy)["script-src"]


@pytest.mark.parametrize("middle", [
    "<!-- <script>alert(1)</script> -->",
    "<!--> <script>alert(1)</script> -->",  # '<!-->' ends the comment: the script is real
    '<a title="<script>alert(1)</script>">x</a>',
    "<a title='<script>alert(1)</script>'>x</a>",
    '<a title="x" data-y=\'<script>alert(1)</script>\'>x</a>',
    "<title><script>alert(1)</script></title>",
    "<textarea><script>alert(1)</script></textarea>",
    "<style>p{}</style><style><script>alert(1)</script></style>",
    "<noscript><script>alert(1)</script></noscript>",
    "<xmp><script>alert(1)</script></xmp>",
    "<iframe><script>alert(1)</script></iframe>",
    "<![CDATA[<script>]]>alert(1)</script>",
    "<?php <script>?>alert(1)</script>",
    "<!DOCTYPE <script>>alert(1)</script>",
    "</p <script>>alert(1)</script>",
    '</p title="<script>alert(1)</script>">',
    "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>",
    "<p>a < b <script >alert(1)</script>",
    "<SCRIPT>alert(1)</SCRIPT>",
    "<script type=module>alert(1)</script >",
    "<TITLE><script>alert(1)</script></TiTlE><script>alert(2)</script>",
    "<title><script>alert(1)</script></titlex></title><script>alert(2)</script>",
])
def test_the_scanner_finds_the_scripts_a_browser_runs_and_no_other(middle):
    """The hash of each <script> the browser would run, and none of script-looking text in a
    comment, an attribute value, a text-only element, a bogus comment or escaped text."""
    found = _scripts(policy_for(_page(middle)))
    runs = {
        "<!--> <script>alert(1)</script> -->": ["alert(1)"],
        "<p>a < b <script >alert(1)</script>": ["alert(1)"],
        "<SCRIPT>alert(1)</SCRIPT>": ["alert(1)"],
        "<script type=module>alert(1)</script >": ["alert(1)"],
        "<TITLE><script>alert(1)</script></TiTlE><script>alert(2)</script>": ["alert(2)"],
        "<title><script>alert(1)</script></titlex></title><script>alert(2)</script>": ["alert(2)"],
        "<![CDATA[<script>]]>alert(1)</script>": [],
    }.get(middle, [])
    assert found == ["'self'", sha(THEME_SCRIPT), *[sha(s) for s in runs]], middle


def test_content_scripts_are_never_allowed_whether_or_not_the_content_is_cut_out():
    content = "<p>x</p><script>alert(1)</script>"
    for filler in ("", "<p>filler</p>" * 40):  # short content: the whole page is scanned
        c = content + filler
        assert _scripts(policy_for(_page(c), c)) == ["'self'", sha(THEME_SCRIPT)]
        twice = _page(c + c)  # the content written twice: the whole page is scanned
        assert _scripts(policy_for(twice, c)) == ["'self'", sha(THEME_SCRIPT)]


def test_a_policy_meta_inside_the_content_keeps_no_policy_out():
    content = '<meta http-equiv="Content-Security-Policy" content="script-src *">' + "<p>filler</p>" * 40
    out = add_csp(_page(content), content)
    assert out.count('<meta http-equiv="Content-Security-Policy"') == 2
    assert out.index("Content-Security-Policy") < out.index("<title>")


def test_script_attributes_read_as_the_browser_reads_them():
    page = _page('<script data-x="a>b" src = \'https://cdn.example.test/a.js\' src="https://other.example.test/b.js">'
                 "</script><link REL='preload stylesheet' href=https://fonts.example.test/x.css>"
                 '<link rel="icon" href="https://icons.example.test/i.png">')
    d = directives(policy_for(page))
    assert d["script-src"] == ["'self'", "https://cdn.example.test", sha(THEME_SCRIPT)]
    assert d["style-src"] == ["'self'", "'unsafe-inline'", "https://fonts.example.test"]


def test_a_tag_or_script_the_page_ends_in_is_no_script():
    """A browser runs no script whose end tag never comes (nor a start tag cut by the end)."""
    assert _scripts(policy_for(_page("") + "<script>alert(1)")) == ["'self'", sha(THEME_SCRIPT)]
    assert _scripts(policy_for(_page("") + '<script src="https://x.example.test/a.js"')) == ["'self'", sha(THEME_SCRIPT)]
    assert _scripts(policy_for(_page("") + "<script>alert(1)</script")) == ["'self'", sha(THEME_SCRIPT)]
    assert _scripts(policy_for(_page("") + "<script>alert(1)</script x='>")) == ["'self'", sha(THEME_SCRIPT)]
    assert _scripts(policy_for(_page("") + "<script>alert(1)</scripts></script x='>'>")) == [
        "'self'", sha(THEME_SCRIPT), sha("alert(1)</scripts>")]


HOSTILE_PAGES = [
    "<!--" * 50_000,
    "<a " * 50_000,
    '<a b="' * 50_000,
    "<a b='" + "<script>" * 50_000,
    "<script" * 50_000,
    "<title>" * 50_000,
    "<script>" + "</scrip" * 50_000,
    "<!-- -" * 50_000,
    "</a " * 50_000 + "=",
    "<a =" * 50_000,
    "<script>" + "</script " * 50_000,
    "<script>x</script><script>" * 50_000,
    "<" * 200_000,
]


def test_adding_the_policy_is_linear_on_hostile_pages():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from flowdoc.publish.csp import add_csp; "
            "pages = ['<head' * 60_000, '<html><head>' + '<meta http-equiv ' * 40_000 + '<body>' + '<head' * 60_000]; "
            "assert add_csp(pages[0]) == pages[0]; assert 'Content-Security-Policy' in add_csp(pages[1])")
    r = subprocess.run([sys.executable, "-c", code, str(ROOT)], text=True, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_the_scan_is_linear_on_hostile_pages():
    """Hang guard: pathological pages of 200-400 KB are scanned in well under the limit (a
    scanner that backtracks or rescans would take minutes)."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from flowdoc.publish.csp import policy_for; "
            "import json; [policy_for(p, p[:300]) for p in json.loads(sys.stdin.read())]")
    import json

    r = subprocess.run([sys.executable, "-c", code, str(ROOT)], input=json.dumps(HOSTILE_PAGES), text=True,
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_hostile_flow_text_adds_nothing_to_the_policy(tmp_path):
    """Script tags in a flow's title, summary, step titles and a code value: the built pages'
    policies allow MkDocs' own base_url script and nothing else inline."""
    flows = tmp_path / "flows"
    flows.mkdir()
    flow = yaml.safe_load((ROOT / "flows" / "client-credentials.yaml").read_text(encoding="utf-8"))
    evil = "</title><!-- --><script>alert(1)</script><![CDATA[<script>alert(2)</script>]]>"
    flow["title"] = evil + " " + flow["title"]
    flow["summary"] = "<textarea><script>alert(3)</script> " + evil
    for t in flow["transitions"]:
        t["title"] = "<script>alert(4)</script> " + t["title"]
    (flows / "evil.yaml").write_text(yaml.safe_dump(flow, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    build_site(BuildSettings(flows_dir=flows, out_dir=out, config_file=ROOT / "site" / "mkdocs.yml"))
    page = (out / "client-credentials" / "latest" / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)" in page and "&lt;script&gt;alert(4)" in page  # the text is there, escaped
    for name, policy in _policies(out).items():
        html_text = (out / name).read_text(encoding="utf-8")
        allowed = {sha(s) for s in re.findall(r"<script>(\s*var base_url = .*?)</script>", html_text, re.S)}
        hashes = {w for w in directives(policy)["script-src"] if w.startswith("'sha256-")}
        assert hashes == allowed and len(allowed) == 1, name
