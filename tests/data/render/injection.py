"""Script-injection corpus: author text that tries to become HTML, attributes, links or template
code on a published page. Every string must reach the reader literally and run nothing.

Used by tests/test_escape.py (each escaping function, through Python-Markdown as MkDocs
configures it and through markdown-it), tests/test_render_page.py and the browser test
tests/test_site_browser.py (a whole site built from flows holding these strings).
"""

from __future__ import annotations

#: Texts: titles, summaries, remedies, notes, link titles ...
TEXTS: list[str] = [
    '<img src=x onerror=alert(1)>',
    "<script>alert(1)</script>",
    'Login {: autofocus tabindex=0 onfocus="alert(document.domain)" }',
    "{: onclick=alert(1) }",
    "{#evil .x onmouseover=alert(1)}",
    "javascript:alert(1)",
    "[click me](javascript:alert(1))",
    "![x](y)",
    "![x](javascript:alert(1))",
    '<a href="javascript:alert(1)">link</a>',
    "{{ 7*7 }} {% raw %}{{ x }}{% endraw %} {# c #}",
    "<v2> & friends ~~struck~~ ~x~",
    '" onmouseover="alert(1)" x="',
    "' onmouseover='alert(1)' x='",
    "</title><script>alert(1)</script>",
    "<!-- comment --> <![CDATA[ x ]]>",
    "&lt;script&gt;alert(1)&lt;/script&gt; &amp;",
    "`<img src=x onerror=alert(1)>`",
    "https://x.invalid/{: onmouseover=alert(1)}",
    "https://x.invalid/?a=1&lt;img src=x onerror=alert(1)&gt;",
    "<https://x.invalid/> <javascript:alert(1)>",
    "*[HTML]: abbreviation [^1]: footnote",
    "!!! danger \"x\"",
    "??? note",
    "=== \"Tab\"",
    "==mark== ^^ins^^ ++ctrl+alt++ {++add++} {--del--}",
    '%%{init: {"securityLevel": "loose"}}%% click A call alert(1)',
    "a\\<b \\& c \\~ d",
]

#: Link targets a flow's ``links:`` must refuse (validation) and no page may link to.
BAD_URLS: list[str] = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "javascript&colon;alert(1)",
    "javascript&#58;alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
]

#: Link targets that are fine (http(s) or relative) but hostile as Markdown.
ODD_URLS: list[str] = [
    "![x](y)",
    "https://x.invalid/a b/(c)?q=<d>&e=f&lt;g",
    "https://x.invalid/\"onmouseover=alert(1)",
    "../guide.md#part 2",
    "//x.invalid/path",
    "https://x.invalid/{: onclick=alert(1)}",
]
