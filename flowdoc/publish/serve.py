"""``flowdoc serve``: a live preview on 127.0.0.1 that rebuilds when a flow or template changes.

It builds the site with :func:`flowdoc.publish.site.build_site` (incremental, atomic) into a
preview folder, serves it with the standard library's HTTP server, and polls the flows,
the templates, the MkDocs project and Mermaid's local script for changes. Pages get a
small script that reloads them after each rebuild and shows the error of a failed one
(the last good site stays served). It does not use MkDocs' server or plugins.

It answers only requests addressed to it: the ``Host`` header must name the address it
listens on (``127.0.0.1:PORT``, ``localhost:PORT``, ``[::1]:PORT``), so a web page whose
name was re-bound to 127.0.0.1 (DNS rebinding) cannot read the preview (421 otherwise).
A build that fails, whatever the error, leaves the previous site served and the error shown
on every page and at ``/__flowdoc__/build``; the next change rebuilds.
"""

from __future__ import annotations

import functools
import html
import json
import os
import threading
import time
import traceback
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from ..diagnostics import format_text
from ..load import walk_files
from .output import check_layout, check_replaceable
from .errors import PublishError
from .pages import is_url
from .pagework import in_process
from .site import BuildResult, BuildSettings, Reporter, build_site

__all__ = ["PreviewServer", "RELOAD_PATH", "allowed_hosts", "check_output"]

RELOAD_PATH = "/__flowdoc__/build"

ERROR_BOX_STYLE = (
    "position:fixed;left:0;right:0;bottom:0;max-height:40%;overflow:auto;margin:0;padding:1em;"
    "background:#fdecea;color:#5c1a12;border-top:3px solid #c0392b;z-index:9999;white-space:pre-wrap"
)

RELOAD_JS_PATH = RELOAD_PATH + ".js"

# A file, not an inline script: the pages' Content-Security-Policy runs no inline script.
RELOAD_JS = """
(function () {
  var seen = null;
  function show(err) {
    var box = document.getElementById("flowdoc-build-error");
    if (!err) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("pre");
      box.id = "flowdoc-build-error";
      box.style.cssText = "__ERROR_BOX_STYLE__";
      document.body.appendChild(box);
    }
    box.textContent = "flowdoc: the last build failed; showing the previous site\\n\\n" + err;
  }
  function poll() {
    fetch("__RELOAD_PATH__", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (s) {
      if (seen !== null && s.build !== seen) { location.reload(); return; }
      seen = s.build; show(s.error);
    }).catch(function () {}).then(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
""".replace("__RELOAD_PATH__", RELOAD_PATH).replace("__ERROR_BOX_STYLE__", ERROR_BOX_STYLE)
RELOAD_SCRIPT = f'\n<script src="{RELOAD_JS_PATH}"></script>\n'


def check_output(settings: BuildSettings) -> None:
    """The checks of ``flowdoc build`` on the preview's output folder, before serving it
    (there is no ``--force`` here)."""
    out = Path(settings.out_dir).resolve()
    check_layout(out, Path(settings.flows_dir), settings.cache_path)
    check_replaceable(out, hint="or give a folder flowdoc built")


def allowed_hosts(host: str, port: int) -> set[str]:
    """``Host`` header values the preview on ``host:port`` answers (lower case)."""
    names = {"127.0.0.1", "localhost", "[::1]", f"[{host}]" if ":" in host else host}
    allowed = {f"{n}:{port}" for n in names}
    if port == 80:
        allowed |= names
    return {a.lower() for a in allowed}


class _Handler(SimpleHTTPRequestHandler):
    server_version = "flowdoc-serve"
    preview: "PreviewServer"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet
        pass

    def _host_ok(self) -> bool:
        """The request names this server in its one Host header; else answer 421."""
        hosts = self.headers.get_all("Host") or []
        address = self.server.server_address
        if not isinstance(address, tuple):  # pragma: no cover - a TCP server's address is (host, port)
            return False
        host, port = address[:2]
        if len(hosts) == 1 and hosts[0].strip().lower() in allowed_hosts(str(host), int(port)):
            return True
        body = (
            "421 Misdirected Request: flowdoc serve answers only requests for "
            f"http://127.0.0.1:{port}/ or http://localhost:{port}/\n"
        ).encode()
        self.send_response(HTTPStatus.MISDIRECTED_REQUEST)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True
        return False

    def do_HEAD(self) -> None:  # noqa: N802
        if self._host_ok():
            super().do_HEAD()

    def do_GET(self) -> None:  # noqa: N802
        if not self._host_ok():
            return
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == RELOAD_JS_PATH:
            self._send_bytes(RELOAD_JS.encode(), "text/javascript; charset=utf-8")
            return
        if path == RELOAD_PATH:
            body = json.dumps(self.preview.status()).encode()
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        local = Path(self.translate_path(self.path))
        if local.is_dir() and path.endswith("/"):
            local = local / "index.html"
        if local.suffix == ".html" and local.is_file():
            self._send_html(local, HTTPStatus.OK)
            return
        if not local.exists():
            error = self.preview.status()["error"]
            if error and not (Path(self.directory) / "index.html").is_file():
                self._send_error_page(error)
                return
            not_found = Path(self.directory) / "404.html"
            if not_found.is_file():
                self._send_html(not_found, HTTPStatus.NOT_FOUND)
                return
        super().do_GET()

    def _send_bytes(self, body: bytes, content_type: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_error_page(self, error: str) -> None:
        text = (
            "<!doctype html><html><head><meta charset='utf-8'><title>flowdoc: build failed</title></head>"
            f"<body><h1>The build failed</h1><pre>{html.escape(error)}</pre></body></html>"
        )
        self._send_text(text, HTTPStatus.SERVICE_UNAVAILABLE)

    def _send_html(self, file: Path, status: HTTPStatus) -> None:
        self._send_text(file.read_text(encoding="utf-8", errors="replace"), status)

    def _send_text(self, text: str, status: HTTPStatus) -> None:
        error = self.preview.status()["error"]
        extra = RELOAD_SCRIPT
        if error:  # shown without the script too; the script updates it
            extra = (
                f'<pre id="flowdoc-build-error" style="{ERROR_BOX_STYLE}">flowdoc: the last build failed; '
                f"showing the previous site\n\n{html.escape(error)}</pre>" + extra
            )
        i = text.lower().rfind("</body>")
        text = text[:i] + extra + text[i:] if i >= 0 else text + extra
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class PreviewServer:
    """Build, serve on ``host:port`` (0 = any free port), rebuild on change.

    ``start()`` returns once the first build is done and the server listens; ``stop()``
    ends both threads. ``builds`` counts the builds done (good or failed).
    """

    def __init__(
        self,
        settings: BuildSettings,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        interval: float = 0.5,
        echo: Callable[[str], None] = print,
        reporter: Reporter | None = None,
    ):
        self.settings = settings
        self.host = host
        self.port = port
        self.interval = interval
        self.echo = echo
        self.reporter = reporter
        self.builds = 0
        self.error: str | None = None
        self.last_result: BuildResult | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._snapshot: dict[str, tuple[int, int]] = {}

    # ---------------------------------------------------------------- state
    @property
    def url(self) -> str:
        assert self._httpd is not None, "not started"
        host, port = self._httpd.server_address[:2]
        assert isinstance(host, str), "an IP address"
        return f"http://{host}:{port}/"

    def status(self) -> dict:
        with self._lock:
            return {"build": self.builds, "error": self.error}

    def watched(self) -> list[Path]:
        """Flows, templates, Mermaid's local script, the MkDocs project's files and, with
        ``git_versions``, the repository's refs (a new tag or a moved branch rebuilds)."""
        s = self.settings
        paths = [Path(s.flows_dir)]
        if s.templates_dir:
            paths.append(Path(s.templates_dir))
        if s.proofs_dir:
            paths.append(Path(s.proofs_dir))  # a new proof file (flowdoc verify --proof) rebuilds
        if s.mermaid_js and not is_url(s.mermaid_js):
            paths.append(Path(s.mermaid_js))
        if self.last_result is not None:
            paths += self.last_result.watch  # mkdocs.yml, its docs folder, the theme's custom_dir
        elif s.config_file:
            paths.append(Path(s.config_file))
        return [p for p in paths if p.exists()]

    def _scan(self) -> dict[str, tuple[int, int]]:
        skip = {Path(self.settings.out_dir).resolve(), self.settings.cache_path.resolve()}
        out: dict[str, tuple[int, int]] = {}
        for root in self.watched():
            root = root.resolve()
            if root.is_file():
                st = root.stat()
                out[str(root)] = (st.st_mtime_ns, st.st_size)
                continue
            # links to files and folders are followed, as by the build (a loop is walked once)
            keep = lambda d: not d.name.startswith(".") and d.resolve() not in skip  # noqa: E731
            for p in walk_files(root, keep_dir=keep):
                if p.name.startswith(".") or p.name.endswith(("~", ".swp", ".tmp")):
                    continue
                try:
                    st = p.stat()
                except OSError:
                    continue
                out[str(p)] = (st.st_mtime_ns, st.st_size)
        return out

    # ---------------------------------------------------------------- build
    def build(self) -> bool:
        """One build; on failure (whatever the error) the previous site stays served and the
        error is shown."""
        try:
            with in_process():  # the preview's server threads run beside the build: no fork
                result = build_site(self.settings, reporter=self.reporter)
        except PublishError as exc:
            return self._failed(str(exc))
        except (Exception, SystemExit) as exc:  # a bug, a MkDocs hook's error: the preview goes on
            return self._failed(_describe(exc))
        with self._lock:
            self.builds += 1
            self.error = None
            self.last_result = result
        if result.cache_reset:
            self.echo(f"flowdoc: note: the build failed with the cache ({result.cache_reset}); rebuilt from nothing")
        if result.diagnostics:
            self.echo(format_text(result.diagnostics))
        self.echo(result.summary())
        return True

    def _failed(self, error: str) -> bool:
        with self._lock:
            self.builds += 1
            self.error = error
        self.echo(f"flowdoc: build failed; still serving the previous site:\n{error}")
        return False

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._poll()
            except Exception as exc:  # never let the watcher die: report, and look again
                self._failed(_describe(exc))

    def _poll(self) -> None:
        snap = self._scan()
        if snap != self._snapshot:
            changed = sorted(set(snap.items()) ^ set(self._snapshot.items()))
            self._snapshot = snap
            names = sorted({os.path.relpath(p) for p, _ in changed})
            self.echo(f"changed: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}; rebuilding")
            self._build_and_rescan()

    def _build_and_rescan(self) -> None:
        roots = self.watched()
        self.build()
        if self.watched() != roots:  # the first good build names the MkDocs project's files
            self._snapshot = self._scan()

    # ---------------------------------------------------------------- serve
    def start(self) -> "PreviewServer":
        """Raises :class:`PublishError` when the output folder may not be used (see :func:`check_output`)."""
        check_output(self.settings)
        self._snapshot = self._scan()
        self._build_and_rescan()
        out = Path(self.settings.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        handler = type("Handler", (_Handler,), {"preview": self})
        self._httpd = ThreadingHTTPServer(
            (self.host, self.port), functools.partial(handler, directory=str(out.resolve()))
        )
        self._httpd.daemon_threads = True
        for target in (self._httpd.serve_forever, self._watch):
            t = threading.Thread(target=target, daemon=True, name=f"flowdoc-serve-{target.__name__}")
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._threads.clear()

    def serve_forever(self) -> None:
        """Build, serve and watch until :meth:`stop` or Ctrl-C (``KeyboardInterrupt`` is raised
        again once both threads have ended, so the caller knows why it stopped)."""
        try:
            self.start()
            self.echo(f"Serving {self.url} (Ctrl+C to stop); watching {', '.join(map(str, self.watched()))}")
            while not self._stop.wait(1.0):
                pass
        finally:
            self.stop()

    def wait_for_build(self, count: int, timeout: float = 30.0) -> bool:
        """Wait until at least ``count`` builds are done (for tests)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.status()["build"] >= count:
                return True
            time.sleep(0.05)
        return False


def _describe(exc: BaseException) -> str:
    """An unexpected error in one line, with where it was raised (no traceback)."""
    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        where = f" (at {frames[-1].filename}:{frames[-1].lineno})"
    return f"unexpected error: {type(exc).__name__}: {exc}{where}"
