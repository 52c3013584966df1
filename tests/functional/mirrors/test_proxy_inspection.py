"""A proxied file is inspected like an upload: in the bounded pool, under the site's budget.

The upstream is whoever defined the source, so its bytes are a stranger's; the
anonymous download that fetches them must not inspect them with more work (or
more threads) than an upload may take.
"""
from __future__ import annotations

import pytest

from anarepo.testing import make_settings

from .conftest import add


@pytest.fixture
def anarepo_settings(tmp_path):
    # a budget no real package fits: anything inspected under it is refused
    return make_settings(tmp_path, **{"anarepo.inspect.decompressed_floor": "1",
                                      "anarepo.inspect.decompressed_ratio": "1"})


def test_a_proxied_file_is_inspected_under_the_sites_budget(mirror_app, testapp, conda_upstream):
    add(mirror_app, url=conda_upstream.url, mode="proxy", filters={"names": ["tool"]})
    testapp.get("/conda/alice/noarch/repodata.json")
    refused = testapp.get("/conda/alice/noarch/tool-2.0-0.tar.bz2", status=502)
    assert "expands beyond" in refused.text
    with mirror_app.root() as root:
        dist = root.owners["alice"].get_package("tool").releases["2.0"].files["noarch/tool-2.0-0.tar.bz2"]
        assert dist.upstream is not None  # nothing stored: still to be fetched
