pytest_plugins = ["tests.support.fixtures", "tests.support.site_browser"]
