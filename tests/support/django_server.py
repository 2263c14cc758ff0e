"""Start the django-oauth-toolkit test server (tests/django_app) from Python: a second, independent
authorization server beside the project's oidc-provider.

    from tests.support.django_server import start_django_server

    with start_django_server(tmp_path) as srv:
        srv.base       # "http://127.0.0.1:PORT" (Django: /accounts/login/, the resource /api/me)
        srv.issuer     # srv.base + "/o" (django-oauth-toolkit's mount path is its issuer)
        srv.resource   # srv.base (GET /api/me with a bearer token)
        srv.secrets    # {"flowdoc-service": ..., "flowdoc-web": ...}: random for each server
        srv.users      # {"alice": {"password": ...}}

SQLite lives in ``tmp``; the server listens on 127.0.0.1 on a free port and exits when this process
closes its standard input (or dies).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"


class DjangoServerError(RuntimeError):
    pass


@dataclass
class DjangoServer:
    base: str
    issuer: str
    process: subprocess.Popen
    secrets: dict
    users: dict
    redirect_uri: str = DEFAULT_REDIRECT_URI
    _stderr: deque = field(default_factory=lambda: deque(maxlen=400), repr=False)

    @property
    def resource(self) -> str:
        return self.base

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def stderr_tail(self, lines: int = 60) -> str:
        return "\n".join(list(self._stderr)[-lines:])

    def stop(self, timeout: float = 5.0) -> None:
        proc = self.process
        if proc.poll() is None:
            try:
                proc.stdin.close()  # the server's own way out
                proc.wait(timeout=timeout)
            except (subprocess.TimeoutExpired, OSError):
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=timeout)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass

    def __enter__(self) -> "DjangoServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _token() -> str:
    return "dj-" + secrets.token_urlsafe(18)


def start_django_server(tmp: Path, *, ttl: dict | None = None, timeout: float = 60.0) -> DjangoServer:
    """Migrate a fresh SQLite database in ``tmp``, create the applications and the user, and
    start the server; wait for its ready line (at most ``timeout`` s)."""
    config = {
        "secrets": {"flowdoc-service": _token(), "flowdoc-web": _token()},
        "users": {"alice": {"password": _token()}},
        "redirectUris": [DEFAULT_REDIRECT_URI],
        "ttl": ttl or {},
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWDOC_", "DJANGO_"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.django_app.serve", "--config", json.dumps(config),
         "--db", str(Path(tmp) / "oauth.sqlite3")],
        cwd=str(ROOT), env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, encoding="utf-8", bufsize=1,
    )
    stderr_lines: deque = deque(maxlen=400)
    ready: dict = {}

    def pump_stderr() -> None:
        for line in proc.stderr:
            stderr_lines.append(line.rstrip("\n"))

    def read_ready() -> None:
        line = proc.stdout.readline()
        if line:
            ready["line"] = line
        for _ in proc.stdout:
            pass

    threading.Thread(target=pump_stderr, name="django-server-stderr", daemon=True).start()
    threading.Thread(target=read_ready, name="django-server-stdout", daemon=True).start()
    deadline = time.monotonic() + timeout
    while "line" not in ready:
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            time.sleep(0.1)
            raise DjangoServerError("the django-oauth-toolkit test server did not start:\n"
                                    + "\n".join(list(stderr_lines)[-40:]))
        time.sleep(0.02)
    info = json.loads(ready["line"])
    return DjangoServer(base=info["base"], issuer=info["issuer"], process=proc, secrets=config["secrets"],
                        users=config["users"], _stderr=stderr_lines)
