"""The test server's URLs: django-oauth-toolkit under /o/ (its issuer), Django's login form, and a
small resource server (/api/me) that accepts the toolkit's access tokens as RFC 6750 says."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path
from oauth2_provider.urls import metadata_urlpatterns

from . import views

urlpatterns = [
    # RFC 8414 at the origin too: /.well-known/oauth-authorization-server/o names the issuer .../o
    path("", include((metadata_urlpatterns, "oauth2_metadata"))),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("api/me", views.me, name="api-me"),
]
