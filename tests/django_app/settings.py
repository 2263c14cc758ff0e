"""Settings of the django-oauth-toolkit test server: one file, SQLite in a temporary folder.

Everything that differs per run comes from the environment, set by tests/django_app/serve.py:
FLOWDOC_DJANGO_DB (the SQLite file), FLOWDOC_DJANGO_KEY (the RSA key that signs ID tokens, PEM),
FLOWDOC_DJANGO_TTL (JSON: AccessToken, RefreshToken, AuthorizationCode, IdToken seconds).
"""

from __future__ import annotations

import json
import os
import secrets

_TTL = json.loads(os.environ.get("FLOWDOC_DJANGO_TTL") or "{}")

SECRET_KEY = secrets.token_urlsafe(32)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.django_app.urls"
USE_TZ = True
TIME_ZONE = "UTC"
LOGIN_URL = "/accounts/login/"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [os.path.join(os.path.dirname(__file__), "templates")],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                       "django.contrib.auth.context_processors.auth"]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": os.environ.get("FLOWDOC_DJANGO_DB", ":memory:"),
                         # IMMEDIATE: a transaction takes the write lock when it starts and waits for
                         # it (up to timeout), instead of failing "database is locked" when it would
                         # upgrade a read lock while another request writes (scenarios run concurrently)
                         "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE",
                                     "init_command": "PRAGMA journal_mode=WAL;"}}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # test server: fast logins
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"stderr": {"class": "logging.StreamHandler"}},
           "root": {"handlers": ["stderr"], "level": "WARNING"}}

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": os.environ.get("FLOWDOC_DJANGO_KEY", ""),
    "PKCE_REQUIRED": True,
    "SCOPES": {
        "openid": "OpenID Connect",
        "profile": "Your name",
        "offline_access": "Stay signed in",
        "api:read": "Read the Orders API",
    },
    "DEFAULT_SCOPES": ["api:read"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(_TTL.get("AccessToken", 3600)),
    "ID_TOKEN_EXPIRE_SECONDS": int(_TTL.get("IdToken", 3600)),
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": int(_TTL.get("AuthorizationCode", 60)),
    "REFRESH_TOKEN_EXPIRE_SECONDS": int(_TTL.get("RefreshToken", 1209600)),
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
}
