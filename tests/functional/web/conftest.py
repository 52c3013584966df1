"""A module-scoped populated site for read-only page checks and the crawler."""
from __future__ import annotations

import pytest
import webtest

from anarepo.testing import AppHarness, make_settings, web_login

from .site import populate


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from anarepo import main

    harness = AppHarness(main({}, **make_settings(tmp_path_factory.mktemp("site"))))
    populate(harness)
    yield harness
    harness.close()


def browser_for(app, login=None):
    client = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    if login:
        web_login(client, login)
    return client
