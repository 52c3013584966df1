"""Session fixtures of the real-world corpora (see :mod:`tests.corpora.sources`):
fetched with pip once, cached between runs, skipped when neither is possible."""
from __future__ import annotations

import pytest

from . import sources


def _or_skip(fetch):
    try:
        return fetch()
    except sources.CorpusUnavailable as exc:
        pytest.skip(f"corpus not cached and not fetchable: {exc}")


@pytest.fixture(scope="session")
def pypi_corpus():
    return _or_skip(sources.pypi_files)


@pytest.fixture(scope="session")
def notebook_corpus():
    return sources.notebooks(_or_skip(lambda: sources.fetch_group("sdists")))
