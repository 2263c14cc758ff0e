"""Run the django-oauth-toolkit test server: ``python -m tests.django_app.serve --config JSON``.

The configuration (JSON) holds ``secrets`` ({client id: secret}), ``users`` ({name: {password}}),
``redirectUris`` and ``ttl``. The server migrates a fresh SQLite database in ``--db``, creates the
user and one application per grant type (django-oauth-toolkit allows one grant type per
application), listens on 127.0.0.1 on a free port, prints one JSON line
``{"base": "http://127.0.0.1:PORT", "issuer": "http://127.0.0.1:PORT/o"}`` on stdout, and logs to
stderr only. It exits when its standard input closes (the test process died or stopped it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# client id -> (grant type, client type); one grant type per application
APPLICATIONS = {
    "flowdoc-service": ("client-credentials", "confidential"),
    "flowdoc-web": ("authorization-code", "confidential"),
}


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # the refresh race sends two requests at once


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        sys.stderr.write("%s\n" % (format % args))


def _rsa_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def _setup(config: dict) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from oauth2_provider.models import get_application_model

    call_command("migrate", verbosity=0, interactive=False)
    users = get_user_model()
    for name, values in config["users"].items():
        users.objects.create_user(username=name, password=values["password"])
    app_model = get_application_model()
    for client_id, (grant, kind) in APPLICATIONS.items():
        app_model.objects.create(
            name=client_id, client_id=client_id, client_secret=config["secrets"][client_id], client_type=kind,
            authorization_grant_type=grant, redirect_uris=" ".join(config["redirectUris"]),
            algorithm="RS256", skip_authorization=False,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    config = json.loads(args.config)
    os.environ["FLOWDOC_DJANGO_DB"] = args.db
    os.environ["FLOWDOC_DJANGO_KEY"] = _rsa_key()
    os.environ["FLOWDOC_DJANGO_TTL"] = json.dumps(config.get("ttl") or {})
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.django_app.settings"
    import django

    django.setup()
    _setup(config)
    from django.core.wsgi import get_wsgi_application

    server = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=_Server, handler_class=_Quiet)
    base = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, name="django-test-server", daemon=True).start()
    print(json.dumps({"base": base, "issuer": base + "/o"}), flush=True)
    sys.stdin.read()  # until the parent closes it (or dies)
    server.shutdown()


if __name__ == "__main__":
    main()
