"""Secrets never reach a log line: path tokens, bare tokens, upload ids, Authorization
values and passwords are masked in messages, arguments and tracebacks."""
from __future__ import annotations

import logging

import pytest

from anarepo.http.middleware import redact

TOKEN = "ar-" + "Ab3" * 13 + "x"


@pytest.mark.parametrize("line", [
    f"GET /t/{TOKEN}/conda/alice/noarch/repodata.json",
    f"GET /conda/t/{TOKEN}/alice/noarch/repodata.json",
    f"token {TOKEN} refused",
    f"Authorization: Bearer {TOKEN}",
    f"Authorization: token {TOKEN}",
    "Authorization: Basic X190b2tlbl9fOmFyLXNlY3JldHNlY3JldA==",
    f"pip index https://__token__:{TOKEN}@repo.example/pypi/alice/simple/",
    "POST /api/s3upload/Zm9vYmFyYmF6cXV4LXNlY3JldC1pZA-long_upload_id HTTP/1.1",
    "form {'login': 'alice', 'password': 'correct-horse-battery'}",
    "new_password=correct-horse-battery&new_password_confirm=correct-horse-battery",
])
def test_redact_masks_every_kind_of_secret(line):
    masked = redact(line)
    for secret in (TOKEN, "X190b2tlbl9fOmFyLXNlY3JldHNlY3JldA", "Zm9vYmFyYmF6cXV4LXNlY3JldC1pZA",
                   "correct-horse-battery"):
        assert secret not in masked, masked


def test_every_log_record_is_redacted_traceback_included(app, caplog):
    """Installed by the app factory for every logger: ours, waitress's, Pyramid's."""
    with caplog.at_level(logging.INFO):
        logging.getLogger("waitress").error("Exception while serving /t/%s/api/user", TOKEN)
        try:
            raise KeyError(f"/conda/t/{TOKEN}/x and token {TOKEN}")
        except KeyError:
            logging.getLogger("pyramid.somewhere").exception("failed on %s", f"/api/s3upload/{TOKEN}abc")
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert TOKEN not in text
    assert "Exception while serving /t/<TOKEN>/api/user" in text
    assert "KeyError" in text


def test_a_500_with_a_path_token_logs_no_token(app, testapp, caplog):
    """A view that fails on a /t/<token>/ URL: the error log line and traceback are clean."""
    token = app.make_token(app.make_user("alice"), "cli")

    def boom(request):
        raise RuntimeError(f"failed for {request.url}")

    from pyramid.config import Configurator  # noqa: F401 - the route is added to the running registry below

    config = Configurator(registry=app.registry)
    config.add_route("boom", "/boom")
    config.add_view(boom, route_name="boom", permission="view")
    config.commit()
    with caplog.at_level(logging.INFO):
        testapp.get(f"/t/{token}/boom", status=500)
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert token not in text
    assert "RuntimeError" in text
