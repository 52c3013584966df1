"""Web flows of organizations, groups, package settings and the dashboard (WebTest)."""
import webtest

from anarepo.testing import csrf_from, web_login


def post_form(testapp, url, **fields):
    page = testapp.get(url)
    status = fields.pop("status", 302)
    return testapp.post(url, {"csrf_token": csrf_from(page), **fields}, status=status)


def error_of(response) -> str:
    return response.html.find(class_="error").text


def second_browser(app, login):
    browser = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    web_login(browser, login)
    return browser


def test_create_organization_and_act_as_it(app, testapp):
    app.make_user("alice")
    web_login(testapp, "alice")
    bad = post_form(testapp, "/organizations", name="no spaces allowed", email="o@example.com", status=400)
    assert "special characters" in bad.text
    post_form(testapp, "/organizations", name="alice", email="o@example.com", status=409)
    created = post_form(testapp, "/organizations", name="Acme", email="o@example.com")
    dashboard = created.follow()
    assert "acting as acme" in dashboard.text
    with app.root() as root:
        org = root.owners["acme"]
        assert org.kind == "org" and "alice" in org.owners and "acme" in root.owners["alice"].organizations
    post_form(testapp, "/organizations", name="acme", email="o@example.com", status=409)
    back = testapp.post("/account/switch", {"owner": "alice", "csrf_token": csrf_from(dashboard)}).follow()
    assert "acting as acme" not in back.text and "acting as yourself" in back.text


def test_groups_page_creates_groups_and_notifies_members(app, testapp):
    app.make_user("alice")
    app.make_user("bob")
    app.make_org("acme", "alice")
    app.publish_file("acme", "tool", "1", "t.txt", b"t", access="private")
    web_login(testapp, "alice")
    bad = post_form(testapp, "/acme/groups", name="readers", permission="read", members="ghost", status=400)
    assert error_of(bad) == "no user named 'ghost'"
    with app.root() as root:
        assert len(root.owners["acme"].groups) == 0  # nothing half-made
    saved = post_form(testapp, "/acme/groups", name="readers", permission="read", members="bob", packages="tool")
    assert saved.location == "http://localhost/acme/groups/readers"
    page = saved.follow()
    assert "bob" in page.text and "acme/tool" in page.text
    bob = second_browser(app, "bob")
    assert "You were added to the organization acme" in bob.get("/dashboard").text
    assert "t.txt" in bob.get("/acme/tool").text  # read-only group can see the private package
    bob.get("/acme/groups", status=403)  # but may not manage groups
    post_form(testapp, "/acme/groups/readers", action="remove_member", login="bob")
    bob.get("/acme/tool", status=404)
    post_form(testapp, "/acme/groups/readers", action="delete")
    with app.root() as root:
        assert "readers" not in root.owners["acme"].groups


def test_package_settings_collaborators_access_transfer_delete(app, testapp):
    app.make_user("alice")
    app.make_user("bob")
    app.make_org("acme", "alice")
    app.publish_file("alice", "data", "1", "d.csv", b"1,2", access="private")
    web_login(testapp, "alice")
    url = "/alice/data/settings/collaborators"
    post_form(testapp, url, action="add", login="nobody", status=400)
    post_form(testapp, url, action="add", login="bob")
    bob = second_browser(app, "bob")
    assert "d.csv" in bob.get("/alice/data").text
    bob.get("/alice/data/settings/admin", status=403)  # collaborators are not admins
    post_form(testapp, "/alice/data/settings/admin", action="access", access="public")
    webtest.TestApp(app.wsgi_app).get("/alice/data", status=200)
    post_form(testapp, "/alice/data/settings/admin", action="transfer", owner="bob", status=400)  # not controlled
    post_form(testapp, "/alice/data/settings/admin", action="transfer", owner="acme")
    testapp.get("/alice/data", status=404)
    assert "d.csv" in testapp.get("/acme/data").text
    post_form(testapp, "/acme/data/settings/admin", action="delete", confirm="wrong", status=400)
    testapp.get("/acme/data", status=200)
    post_form(testapp, "/acme/data/settings/admin", action="delete", confirm="data")
    testapp.get("/acme/data", status=404)


def test_settings_of_private_package_are_invisible_to_strangers(app, testapp):
    app.make_user("alice")
    app.make_user("eve")
    app.publish_file("alice", "secret", "1", "s.txt", b"s", access="private")
    app.publish_file("alice", "open", "1", "o.txt", b"o")
    web_login(testapp, "eve")
    testapp.get("/alice/secret/settings/admin", status=404)
    testapp.get("/alice/open/settings/admin", status=403)
    testapp.get("/alice/open/settings/nonsense", status=403)
    anonymous = webtest.TestApp(app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    assert "/account/login" in anonymous.get("/alice/open/settings/admin", status=302).location


def test_delete_organization_needs_its_name(app, testapp):
    app.make_user("alice")
    app.make_org("acme", "alice")
    app.publish_file("acme", "tool", "1", "t.txt", b"t")
    web_login(testapp, "alice")
    post_form(testapp, "/acme/settings", action="delete", confirm="acm", status=400)
    testapp.get("/acme/tool", status=200)
    post_form(testapp, "/acme/settings", action="delete", confirm="acme")
    testapp.get("/acme", status=404)
    with app.root() as root:
        assert "acme" not in root.owners["alice"].organizations


def test_dashboard_notifications_can_be_marked_read(app, testapp):
    app.make_user("alice")
    app.make_user("bob")
    app.publish_file("alice", "data", "1", "d.csv", b"1")
    web_login(testapp, "alice")
    post_form(testapp, "/alice/data/settings/collaborators", action="add", login="bob")
    bob = second_browser(app, "bob")
    page = bob.get("/dashboard")
    assert "1 new" in page.text and "collaborator on alice/data" in page.text
    bob.post("/dashboard", {"csrf_token": csrf_from(page)}, status=302)
    assert "1 new" not in bob.get("/dashboard").text
