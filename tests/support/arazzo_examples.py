"""Which example flows export to Arazzo, and the workflows each export holds (shared by the
Arazzo export, import and Respect tests)."""

from __future__ import annotations

EXPORTABLE = ["client-credentials", "gateway-login", "silent-refresh-rotation"]
NOT_EXPORTABLE = ["authorization-code-pkce", "mfa-step-up"]
WORKFLOWS = {
    "client-credentials": ["happy-path", "bad_secret", "unknown_client", "bad_scope", "missing_token"],
    "gateway-login": ["no_session"],
    "silent-refresh-rotation": ["happy-path", "rotated_token_replayed", "refresh_bad_client"],
}
