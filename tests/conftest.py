import pytest

pytest_plugins = ["tests.support.fixtures"]
