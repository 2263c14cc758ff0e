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
