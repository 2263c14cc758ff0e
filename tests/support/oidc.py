"""Start the real OIDC provider + resource server (tests/node/oidc_server.mjs) from Python.

    from tests.support.oidc import start_oidc_server

    with start_oidc_server(ttl={"AccessToken": 2}) as srv:
        srv.issuer    # "http://127.0.0.1:PORT"  (the provider; discovery at /.well-known/openid-configuration)
        srv.resource  # "http://127.0.0.1:PORT2" (the resource server: GET /api/me, GET /api/admin)
        srv.audience  # "http://127.0.0.1:PORT2/api" (resource indicator / `aud` of JWT access tokens)
        srv.gateway   # "http://127.0.0.1:PORT3" (the gateway / BFF: GET /login, /callback, /api/me)

Keyword arguments are the JSON configuration documented at the top of oidc_server.mjs
(port, resourcePort, ttl, secrets, users, redirectUris, maxOtpFailures, requireCsrf); ``env``
adds environment variables (e.g. FLOWDOC_OIDC_WEB_SECRET). The handle also carries the effective
client secrets and user credentials (``srv.secrets``, ``srv.users``) so tests can use them.

The node process is started with ``--exit-with-stdin``: it also exits if this Python process dies.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from tests.support.mermaid import NODE_DIR, ensure_node_modules, node_executable

SERVER_SCRIPT = NODE_DIR / "oidc_server.mjs"

DEFAULT_SECRETS = {
    "flowdoc-service": "s3cr3t-service-secret",
    "flowdoc-service-post": "s3cr3t-service-secret",
    "flowdoc-web": "s3cr3t-web-secret",
    "flowdoc-gateway": "s3cr3t-gateway-secret",
    "flowdoc-reporting": "s3cr3t-reporting-secret",
    "flowdoc-api": "s3cr3t-api-secret",
}
DEFAULT_USERS = {
    "alice": {"password": "correct-horse-battery"},
    "bob": {"password": "bob-staple-battery", "totpSecret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"},
    "mallory": {"password": "mallory-locked-out"},
}
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"
ACR_PWD = "urn:flowdoc:acr:pwd"
ACR_MFA = "urn:flowdoc:acr:mfa"


class OidcServerError(RuntimeError):
    pass


@dataclass
class ServerHandle:
    issuer: str
    resource: str
    process: subprocess.Popen
    config: dict
    secrets: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    _stderr: deque = field(default_factory=lambda: deque(maxlen=400), repr=False)
    gateway: str = ""

    @property
    def audience(self) -> str:
        return self.resource + "/api"

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    @property
    def redirect_uri(self) -> str:
        return (self.config.get("redirectUris") or [DEFAULT_REDIRECT_URI])[0]

    def stderr_tail(self, lines: int = 60) -> str:
        return "\n".join(list(self._stderr)[-lines:])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        proc = self.process
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
            except ProcessLookupError:
                pass
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _wait_ready(proc: subprocess.Popen, ready: dict, stderr_lines: deque, timeout: float) -> None:
    """Wait until the server printed its ready line; raise (with its last stderr lines) if it exits or times out."""
    deadline = time.monotonic() + timeout
    while "line" not in ready:
        if proc.poll() is not None:
            time.sleep(0.1)  # let the stderr pump catch up
            raise OidcServerError(
                f"oidc_server.mjs exited with {proc.returncode} before it was ready:\n"
                + "\n".join(list(stderr_lines)[-40:])
            )
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise OidcServerError(
                f"oidc_server.mjs printed no ready line within {timeout} s:\n"
                + "\n".join(list(stderr_lines)[-40:])
            )
        time.sleep(0.02)


def start_oidc_server(*, env: dict | None = None, timeout: float = 30.0, **config) -> ServerHandle:
    """Spawn the provider + resource server and wait for its ready line (at most ``timeout`` s)."""
    ensure_node_modules("oidc-provider", "jose")
    node = node_executable()
    proc_env = dict(os.environ)
    proc_env.pop("FLOWDOC_OIDC_CONFIG", None)
    if env:
        proc_env.update({k: str(v) for k, v in env.items()})
    cmd = [node, str(SERVER_SCRIPT), "--exit-with-stdin", "--config", json.dumps(config)]
    proc = subprocess.Popen(
        cmd,
        cwd=str(NODE_DIR),
        env=proc_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        bufsize=1,
    )
    stderr_lines: deque = deque(maxlen=400)

    def pump_stderr() -> None:
        for line in proc.stderr:
            stderr_lines.append(line.rstrip("\n"))

    threading.Thread(target=pump_stderr, name="oidc-server-stderr", daemon=True).start()

    ready: dict = {}

    def read_ready() -> None:
        line = proc.stdout.readline()
        if line:
            ready["line"] = line
        # keep draining stdout so the child never blocks on a full pipe
        for _ in proc.stdout:
            pass

    threading.Thread(target=read_ready, name="oidc-server-stdout", daemon=True).start()

    _wait_ready(proc, ready, stderr_lines, timeout)
    try:
        info = json.loads(ready["line"])
        issuer, resource = info["issuer"], info["resource"]
    except (ValueError, KeyError) as exc:
        proc.kill()
        proc.wait()
        raise OidcServerError(f"unexpected ready line {ready['line']!r}") from exc

    effective_secrets = dict(DEFAULT_SECRETS)
    effective_users = json.loads(json.dumps(DEFAULT_USERS))
    if env:
        mapping = {
            "FLOWDOC_OIDC_SERVICE_SECRET": ("secret", "flowdoc-service"),
            "FLOWDOC_OIDC_SERVICE_POST_SECRET": ("secret", "flowdoc-service-post"),
            "FLOWDOC_OIDC_WEB_SECRET": ("secret", "flowdoc-web"),
            "FLOWDOC_OIDC_GATEWAY_SECRET": ("secret", "flowdoc-gateway"),
            "FLOWDOC_OIDC_REPORTING_SECRET": ("secret", "flowdoc-reporting"),
            "FLOWDOC_OIDC_API_SECRET": ("secret", "flowdoc-api"),
            "FLOWDOC_OIDC_ALICE_PASSWORD": ("user", "alice", "password"),
            "FLOWDOC_OIDC_BOB_PASSWORD": ("user", "bob", "password"),
            "FLOWDOC_OIDC_BOB_TOTP_SECRET": ("user", "bob", "totpSecret"),
            "FLOWDOC_OIDC_MALLORY_PASSWORD": ("user", "mallory", "password"),
        }
        if "FLOWDOC_OIDC_SERVICE_SECRET" in env and "FLOWDOC_OIDC_SERVICE_POST_SECRET" not in env:
            effective_secrets["flowdoc-service-post"] = str(env["FLOWDOC_OIDC_SERVICE_SECRET"])
        for key, target in mapping.items():
            if key in env:
                if target[0] == "secret":
                    effective_secrets[target[1]] = str(env[key])
                else:
                    effective_users[target[1]][target[2]] = str(env[key])
    effective_secrets.update(config.get("secrets", {}))
    effective_users = _deep_merge(effective_users, config.get("users", {}))

    return ServerHandle(
        issuer=issuer,
        resource=resource,
        process=proc,
        config=config,
        secrets=effective_secrets,
        users=effective_users,
        _stderr=stderr_lines,
        gateway=info.get("gateway", ""),
    )
