"""The resource server of the test server: GET /api/me with a bearer access token (RFC 6750)."""

from __future__ import annotations

from django.http import JsonResponse
from oauth2_provider.oauth2_backends import get_oauthlib_core


def _bearer_error(status: int, error: str, description: str) -> JsonResponse:
    resp = JsonResponse({"error": error, "error_description": description}, status=status)
    resp["WWW-Authenticate"] = f'Bearer error="{error}", error_description="{description}"'
    return resp


def me(request):
    if request.method != "GET":
        return JsonResponse({"error": "invalid_request"}, status=405)
    if not request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer "):
        return _bearer_error(401, "invalid_token", "missing bearer access token")
    valid, r = get_oauthlib_core().verify_request(request, scopes=[])
    if not valid:
        return _bearer_error(401, "invalid_token", "the access token is invalid or has expired")
    if "api:read" not in r.access_token.scope.split():
        return _bearer_error(403, "insufficient_scope", "api:read is required")
    tok = r.access_token
    sub = tok.user.get_username() if tok.user is not None else tok.application.client_id
    return JsonResponse({"sub": sub, "scope": tok.scope, "client_id": tok.application.client_id})
