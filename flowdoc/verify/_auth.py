"""Client authentication as strategy objects, one per value of a request's ``auth``.

A strategy reads the credentials it needs (``client_id``, ``client_secret``, ``token``: the
failure's patch over the step's request, rendered when read) and says what to add to the request:
headers, and form fields for a form body. ``AUTH_METHODS`` is the registry; a new method
(``private_key_jwt``, ``tls_client_auth`` ...) is one more decorated class. Which methods send the
client id and secret is the model's :data:`~flowdoc.model.flow.CLIENT_SECRET_AUTH` (defined once).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar
from urllib.parse import quote

from ..model.expr import as_text
from ..model.flow import CLIENT_SECRET_AUTH
from ._outcomes import UsageProblem
from ._redact import Redactor


def basic_credentials(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1: form-encode id and secret, then base64 ``id:secret``."""
    raw = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return base64.b64encode(raw.encode("utf-8")).decode("ascii")


@dataclass
class AuthCall:
    """What a strategy may read for one request."""

    step: str  # the transition id, for messages
    value: Callable[[str], Any]  # rendered credential: "client_id", "client_secret" or "token"
    omit: frozenset[str]  # lower-case names the failure leaves out
    redactor: Redactor


@dataclass
class AuthParts:
    """What a strategy adds to the request."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    form: dict[str, str] | None = None  # fields of a form body (None: the method needs no form body)


class ClientAuthMethod:
    name: ClassVar[str]

    def apply(self, call: AuthCall) -> AuthParts:  # pragma: no cover - interface
        raise NotImplementedError


class _ClientSecret(ClientAuthMethod):
    """A method of :data:`~flowdoc.model.flow.CLIENT_SECRET_AUTH` (which names them): it reads the
    client id and secret. A subclass whose name is not there is refused when it is registered."""

    @staticmethod
    def credentials(call: AuthCall) -> tuple[str, str]:
        return as_text(call.value("client_id")), as_text(call.value("client_secret"))


AUTH_METHODS: dict[str, ClientAuthMethod] = {}


def auth_method(cls: type[ClientAuthMethod]) -> type[ClientAuthMethod]:
    """Register a strategy; the methods that send the client secret are exactly the model's
    :data:`~flowdoc.model.flow.CLIENT_SECRET_AUTH`."""
    if issubclass(cls, _ClientSecret) != (cls.name in CLIENT_SECRET_AUTH):
        raise TypeError(f"auth method {cls.name!r}: sends the client secret exactly when CLIENT_SECRET_AUTH names it")
    AUTH_METHODS[cls.name] = cls()
    return cls


@auth_method
class NoAuth(ClientAuthMethod):
    name = "none"

    def apply(self, call: AuthCall) -> AuthParts:
        return AuthParts()


@auth_method
class ClientSecretBasic(_ClientSecret):
    """RFC 6749 §2.3.1: ``Authorization: Basic`` with the form-encoded id and secret."""

    name = "client_secret_basic"

    def apply(self, call: AuthCall) -> AuthParts:
        cid, secret = self.credentials(call)
        if "authorization" in call.omit:
            return AuthParts()
        cred = basic_credentials(cid, secret)
        secret_ph = call.redactor.placeholder(secret)
        label = f"basic {cid}:{secret_ph.strip('«»') if secret_ph else 'secret'}"
        call.redactor.add(cred, label, numbered=False, declared=True)
        return AuthParts(headers=[("Authorization", f"Basic {cred}")])


@auth_method
class ClientSecretPost(_ClientSecret):
    """RFC 6749 §2.3.1: ``client_id`` and ``client_secret`` in the form body."""

    name = "client_secret_post"

    def apply(self, call: AuthCall) -> AuthParts:
        cid, secret = self.credentials(call)
        form = {"client_id": cid, "client_secret": secret}
        return AuthParts(form={k: v for k, v in form.items() if k not in call.omit})


@auth_method
class Bearer(ClientAuthMethod):
    """RFC 6750: ``Authorization: Bearer`` with a token from an earlier step."""

    name = "bearer"

    def apply(self, call: AuthCall) -> AuthParts:
        if "authorization" in call.omit:
            return AuthParts()
        token = call.value("token")
        if token is None or token == "":
            raise UsageProblem(f"'{call.step}': the bearer token has no value")
        return AuthParts(headers=[("Authorization", f"Bearer {as_text(token)}")])

