"""Fixtures every test module can use. The servers (the OIDC provider, the site browser) come from
:mod:`tests.support`; the helpers without state (CLI runners, git, paths) from :mod:`tests.helpers`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.flowkit import base
from tests.helpers import init_repo

pytest_plugins = ["tests.support.fixtures", "tests.support.site_browser"]


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """An empty git repository, ``tmp_path / "repo"`` (commit with :func:`tests.helpers.commit_all`)."""
    return init_repo(tmp_path / "repo")


@pytest.fixture
def base_flow() -> dict[str, Any]:
    """A fresh copy of the minimal valid flow of :mod:`tests.flowkit` (change it freely)."""
    return base()
