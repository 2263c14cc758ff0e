"""flowdoc serve: a live preview on 127.0.0.1 that rebuilds when a flow or a template changes."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from flowdoc.publish import BuildSettings
from flowdoc.publish.serve import RELOAD_PATH, PreviewServer
from tests.helpers import MERMAID_JS, ROOT, SITE_CONFIG, change, copy_flows
from tests.helpers import http_get as get


def test_preview_rebuilds_on_flow_and_template_changes(tmp_path):
    flows = copy_flows(tmp_path / "flows")
    templates = tmp_path / "templates"
    templates.mkdir()
    project = tmp_path / "project"
    shutil.copytree(SITE_CONFIG.parent, project)
    settings = BuildSettings(
        flows_dir=flows,
        out_dir=tmp_path / "preview" / "site",
        config_file=project / "mkdocs.yml",
        mermaid_js=str(MERMAID_JS),
        templates_dir=templates,
    )
    messages: list[str] = []
    server = PreviewServer(settings, port=0, interval=0.1, echo=messages.append).start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        status, html = get(server.url)
        assert status == 200 and "Authentication flows" in html
        assert RELOAD_PATH in html  # the page reloads itself after a rebuild
        assert json.loads(get(server.url + RELOAD_PATH.lstrip("/"))[1]) == {"build": 1, "error": None}

        # a flow changes: rebuilt, the page shows it
        change(flows / "gateway-login.yaml", "title: Sign in through the API gateway", "title: Sign in via the gateway")
        assert server.wait_for_build(2), messages
        status, html = get(server.url + "gateway-login/latest/")
        assert status == 200 and "Sign in via the gateway" in html
        assert server.last_result is not None and server.last_result.pages_built == 4
        assert any("changed: " in m and "gateway-login.yaml" in m for m in messages)

        # a template changes: rebuilt with it
        (templates / "site-index.md.j2").write_text("# Our flows\n\n{% for f in flows %}- [{{ f.title }}]({{ f.link }})\n{% endfor %}")
        assert server.wait_for_build(3), messages
        assert "Our flows" in get(server.url)[1]

        # a page of the MkDocs project changes
        change(project / "docs" / "introduction.md", "# Introduction", "# Introduction, edited")
        assert server.wait_for_build(4), messages
        assert "Introduction, edited" in get(server.url + "introduction/")[1]
        assert server.last_result.pages_built == 0 and server.last_result.mkdocs_ran

        # an invalid flow: the error is shown, the last good site stays served
        bad = flows / "broken.yaml"
        bad.write_text("id: broken\ntitle: [\n", encoding="utf-8")
        assert server.wait_for_build(5), messages
        state = json.loads(get(server.url + RELOAD_PATH.lstrip("/"))[1])
        assert state["build"] == 5 and re.search(rf"{re.escape(str(bad))}:\d+:\d+: error", state["error"])
        status, html = get(server.url + "gateway-login/latest/")
        assert status == 200 and "Sign in via the gateway" in html
        assert get(server.url + "no/such/page/")[0] == 404

        bad.unlink()
        assert server.wait_for_build(6), messages
        assert json.loads(get(server.url + RELOAD_PATH.lstrip("/"))[1])["error"] is None
    finally:
        server.stop()


def test_serve_command(tmp_path):
    flows = copy_flows(tmp_path / "flows")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowdoc", "serve", "--port", "0", "--flows", str(flows),
         "--config-file", str(SITE_CONFIG), "--mermaid-js", str(MERMAID_JS)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        url = None
        deadline = time.monotonic() + 120
        seen = []
        while time.monotonic() < deadline and url is None:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            m = re.search(r"Serving (http://127\.0\.0\.1:\d+/)", line)
            url = m.group(1) if m else None
        assert url, "".join(seen)
        status, html = get(url + "authorization-code-pkce/v1/")
        assert status == 200 and "flowdoc-banner-deprecated" in html
        change(flows / "mfa-step-up.yaml", "title: ", "title: Changed, ")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if json.loads(get(url + RELOAD_PATH.lstrip("/"))[1])["build"] >= 2:
                break
            time.sleep(0.1)
        assert "Changed, " in get(url + "mfa-step-up/latest/")[1]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# ---------------------------------------------------------------- Host check


def raw(port: int, request: bytes) -> tuple[int, bytes]:
    """Send bytes as they are to 127.0.0.1:port; the status and the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data


def small_preview(tmp_path: Path, **kw) -> PreviewServer:
    flows = tmp_path / "flows"
    flows.mkdir()
    for name in ("client-credentials.yaml", "gateway-login.yaml"):
        shutil.copy(ROOT / "flows" / name, flows / name)
    kw.setdefault("config_file", SITE_CONFIG)
    settings = BuildSettings(flows_dir=flows, out_dir=tmp_path / "preview" / "site", mermaid_js=str(MERMAID_JS), **kw)
    return PreviewServer(settings, port=0, interval=0.1, echo=lambda m: None)


def test_serve_answers_only_its_own_host_dns_rebinding(tmp_path):
    server = small_preview(tmp_path).start()
    try:
        port = int(server.url.rsplit(":", 1)[1].strip("/"))
        hostile = [
            b"GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
            b"GET /__flowdoc__/build HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
            b"GET /index.html HTTP/1.1\r\nHost: evil.example:%d\r\nConnection: close\r\n\r\n" % port,
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",  # not the port it listens on
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d.evil.example\r\nConnection: close\r\n\r\n" % port,
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nHost: evil.example\r\nConnection: close\r\n\r\n" % port,
            b"GET / HTTP/1.0\r\n\r\n",  # no Host at all
            b"HEAD / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
        ]
        for request in hostile:
            status, data = raw(port, request)
            assert status == 421, (request, data[:200])
            assert b"Authentication flows" not in data and b'"build"' not in data and b"<html" not in data.lower()
        for host in (b"127.0.0.1:%d" % port, b"localhost:%d" % port, b"[::1]:%d" % port, b"LocalHost:%d" % port):
            status, data = raw(port, b"GET / HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")
            assert status == 200 and b"Authentication flows" in data, host
            status, data = raw(port, b"GET /__flowdoc__/build HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")
            assert status == 200 and b'"error": null' in data
    finally:
        server.stop()


# ------------------------------------------------- any build error, survived

FAILING_HOOK = '''
def on_post_build(config, **kwargs):
    raise RuntimeError("boom <b>from a hook</b>")
'''


def status(server: PreviewServer) -> dict:
    return json.loads(get(server.url + RELOAD_PATH.lstrip("/"))[1])


def test_preview_survives_any_build_error_and_rebuilds_after_the_fix(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(SITE_CONFIG.parent, project)
    (project / "hooks.py").write_text(FAILING_HOOK)
    config = project / "mkdocs.yml"
    server = small_preview(tmp_path, config_file=config)
    messages: list[str] = []
    server.echo = messages.append
    server.start()
    try:
        assert status(server) == {"build": 1, "error": None}
        # an error that is not flowdoc's (a MkDocs hook raises): reported, the previous site served
        config.write_text(config.read_text() + "\nhooks:\n  - hooks.py\n")
        assert server.wait_for_build(2), messages
        st = status(server)
        assert st["build"] == 2 and "RuntimeError: boom <b>from a hook</b>" in st["error"], st
        code, html = get(server.url + "gateway-login/latest/")
        assert code == 200 and "Sign in through the API gateway" in html
        assert 'id="flowdoc-build-error"' in html and "boom &lt;b&gt;from a hook&lt;/b&gt;" in html
        assert "<b>from a hook</b>" not in html
        assert "Traceback" not in "\n".join(messages)

        # the watcher is alive: a flow edit still rebuilds (and still fails, the hook is there)
        change(server.settings.flows_dir / "gateway-login.yaml", "title: Sign in through the API gateway",
               "title: Sign in via the gateway")
        assert server.wait_for_build(3), messages
        assert "RuntimeError" in status(server)["error"]

        # fixed: rebuilt, the error gone, the edit published
        config.write_text(config.read_text().replace("\nhooks:\n  - hooks.py\n", "\n"))
        assert server.wait_for_build(4), messages
        assert status(server) == {"build": 4, "error": None}
        code, html = get(server.url + "gateway-login/latest/")
        assert code == 200 and "Sign in via the gateway" in html and '<pre id="flowdoc-build-error"' not in html
    finally:
        server.stop()
