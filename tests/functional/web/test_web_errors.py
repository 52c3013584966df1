"""Server-side failures on web pages answer the site's own error page (issue 15:
waitress's raw 500 page), through the catch-all failure views (issue 13)."""
import webtest

from anarepo import main
from anarepo.testing import AppHarness, csrf_from, make_settings, web_login


def test_a_failed_write_shows_the_sites_error_page(tmp_path):
    first = AppHarness(main({}, **make_settings(tmp_path)))
    first.make_user("alice")
    first.close()
    settings = make_settings(tmp_path)
    settings["zodbconn.uri"] += "&read_only=1"
    harness = AppHarness(main({}, **settings))
    try:
        testapp = webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
        web_login(testapp, "alice")
        page = testapp.get("/account/tokens")
        failed = testapp.post("/account/tokens", {"name": "laptop", "csrf_token": csrf_from(page)}, status=503)
        assert failed.content_type == "text/html"
        assert "Something went wrong on our side" in failed.text and "No change was saved" in failed.text
        assert 'href="http://localhost/static/site.css"' in failed.text  # the site's layout, not waitress's page
    finally:
        harness.close()
