"""Channel URLs opened in a browser (issue 15): ``/<owner>/label/<label>``, and
``conda.<host>/<owner>`` / ``pypi.<host>/<owner>``, which the user guide treats as
the owner's page, and the install commands on package and owner pages."""
import webtest

from tests.conda_builders import build_package

from anarepo.testing import web_login


def _world(app):
    app.make_user("alice")
    app.make_user("bob")
    app.upload("alice", *build_package("steady", "1.0"))
    app.upload("alice", *build_package("fresh", "2.0"), labels=["dev"])
    app.upload("alice", *build_package("hidden", "1.0"), labels=["dev"], access="private")


def _packages(page) -> set:
    return {name for name in ("steady", "fresh", "hidden") if f">{name}</a>" in page.text}


def test_label_pages_list_the_packages_of_that_channel(app, testapp):
    _world(app)
    main = testapp.get("/alice/label/main")
    assert _packages(main) == {"steady"} and "default label" in main.text
    assert "conda install -c http://localhost/conda/alice PACKAGE" in main.text
    dev = testapp.get("/alice/label/dev")
    assert _packages(dev) == {"fresh"}
    assert "conda install -c http://localhost/conda/alice/label/dev PACKAGE" in dev.text
    assert "/pypi/alice/label/dev/simple" in dev.text
    assert _packages(testapp.get("/alice/label/DEV")) == {"fresh"}
    for missing in ("/alice/label/nope", "/alice/label", "/alice/label/dev/more", "/nobody/label/main"):
        testapp.get(missing, status=404)
    web_login(testapp, "alice")
    assert _packages(testapp.get("/alice/label/dev")) == {"fresh", "hidden"}


def test_browser_visits_to_channel_urls_land_on_the_web_pages(app, testapp):
    _world(app)
    assert testapp.get("/conda/alice", status=302).location == "http://localhost/alice"
    assert testapp.get("/conda/alice/", status=302).location == "http://localhost/alice"
    assert testapp.get("/conda/alice/label/dev", status=302).location == "http://localhost/alice/label/dev"
    assert testapp.get("/pypi/alice/", status=302).location == "http://localhost/alice"
    assert testapp.get("/pypi/alice/label/dev/", status=302).location == "http://localhost/alice/label/dev"
    testapp.get("/conda/nobody", status=404)
    testapp.get("/conda/alice/label/nope", status=404)
    # the guide's subdomains: back to the main host, never to the subdomain again
    for sub in ("conda", "pypi"):
        visitor = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": f"{sub}.repo.example:8080"})
        assert visitor.get("/alice", status=302).location == "http://repo.example:8080/alice"
        assert visitor.get("/alice/label/dev", status=302).location == "http://repo.example:8080/alice/label/dev"
    # conda itself still gets its documents there
    conda = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "conda.repo.example"})
    assert "steady-1.0-0.tar.bz2" in conda.get("/alice/noarch/repodata.json").json["packages"]
    # a path token never travels into the redirect
    token = app.make_token("alice", "read", ["conda:download"])
    assert token not in testapp.get(f"/conda/t/{token}/alice", status=302).location


def test_package_pages_show_the_full_channel_url_and_explain_the_short_form(app, testapp):
    _world(app)
    page = testapp.get("/alice/steady")
    assert "conda install -c http://localhost/conda/alice steady" in page.text
    assert "conda config --set channel_alias http://localhost/conda" in page.text
    assert "conda install -c alice steady" in page.text  # the short form, under that explanation
