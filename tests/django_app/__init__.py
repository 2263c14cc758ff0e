"""A django-oauth-toolkit server for flowdoc's verify tests (see tests/support/django_server.py)."""
