"""Organizations (create, Switch To, groups, delete), access tokens, and package
settings (collaborators, access, transfer, delete), in Chromium."""
from __future__ import annotations

import re
import urllib.request

from playwright.sync_api import expect

from .conftest import flash, shot


def tools(page, item):
    page.locator("#tools-menu summary").click()
    page.locator("#tools-menu").get_by_role("link", name=item, exact=True).click()
    page.wait_for_load_state()


def test_organization_create_groups_switch_and_delete(site, as_user):
    page = as_user("bob")
    page.goto(site.url + "/dashboard")
    tools(page, "Organizations")
    page.get_by_label("Organization name").fill("bad name!")
    page.get_by_label("E-mail").fill("team@example.com")
    page.get_by_role("button", name="Create Organization").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_label("Organization name").fill("widgets")
    page.get_by_role("button", name="Create Organization").click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_contain_text("acting as widgets")
    assert site.api("/api/user/widgets")[0] == 200
    shot(page, "organization-dashboard")
    tools(page, "Groups")
    assert page.url.endswith("/widgets/groups")
    page.get_by_label("Name", exact=True).fill("readers")
    page.get_by_label("Permission").select_option("read")
    page.get_by_label(re.compile("^Members")).fill("alice")
    page.get_by_role("button", name="Save Group").click()
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text("alice")
    status, groups = site.api("/api/groups/widgets", login="bob")
    assert status == 200 and "readers" in str(groups)
    shot(page, "group")
    # alice is told on her dashboard
    alice = as_user("alice")
    alice.goto(site.url + "/dashboard")
    expect(alice.locator("main")).to_contain_text("You were added to the organization widgets")
    # Switch back, then delete the organization from its settings
    page.goto(site.url + "/organizations")
    page.get_by_role("button", name="Switch back to bob").click()
    page.wait_for_load_state()
    expect(page.locator("h1")).not_to_contain_text("acting as")
    page.goto(site.url + "/widgets/settings")
    page.get_by_label(re.compile("Type the organization")).fill("widgets")
    page.locator("#account").get_by_role("button", name="Delete").click()
    page.wait_for_load_state()
    assert site.api("/api/user/widgets")[0] == 404


def test_tokens_created_shown_once_and_revoked(site, as_user):
    page = as_user("bob")
    page.goto(site.url + "/dashboard")
    tools(page, "Tokens")
    page.get_by_label("Name", exact=True).fill("ci-download")
    page.get_by_label(re.compile(r"api:read —")).check()
    page.get_by_label(re.compile("Expires after")).fill("30")
    page.get_by_role("button", name="Create token").click()
    page.wait_for_load_state()
    raw = page.locator("#new-token").inner_text().strip()
    assert raw.startswith("ar-")
    shot(page, "tokens")
    request = urllib.request.Request(site.url + "/api/user", headers={"Authorization": f"token {raw}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    page.reload()
    expect(page.locator("#new-token")).to_have_count(0)  # shown only once
    expect(page.locator("main")).not_to_contain_text(raw)
    row = page.locator("tr", has_text="ci-download")
    expect(row).to_contain_text("api:read")
    row.get_by_role("button", name="Revoke token ci-download").click()
    page.wait_for_load_state()
    expect(page.locator("tr", has_text="ci-download")).to_have_count(0)
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("the revoked token still works")
    except urllib.error.HTTPError as exc:
        assert exc.code == 401


def test_package_settings_collaborators_access_transfer_delete(site, as_user):
    site.app.upload("alice", "shared.txt", b"s\n", type_name="file", name="shared", version="1")
    page = as_user("alice")
    page.goto(site.url + "/alice/shared")
    page.get_by_role("navigation", name="Package").get_by_role("link", name="Settings").click()
    page.get_by_label("User name").fill("bob")
    page.get_by_role("button", name="Add").click()
    page.wait_for_load_state()
    status, collaborators = site.api("/api/packages/alice/shared/collaborators", login="alice")
    assert status == 200 and "bob" in str(collaborators)
    shot(page, "package-settings")
    page.get_by_role("button", name="Remove collaborator bob").click()
    page.wait_for_load_state()
    assert "bob" not in str(site.api("/api/packages/alice/shared/collaborators", login="alice")[1])
    page.get_by_role("link", name="Admin").click()
    page.get_by_label("Private").check()
    page.get_by_role("button", name="Save access").click()
    page.wait_for_load_state()
    assert site.api("/api/package/alice/shared")[0] == 404
    page.get_by_label("New owner").select_option("acme")
    page.get_by_role("button", name="Transfer Ownership").click()
    page.wait_for_load_state()
    assert site.api("/api/package/acme/shared", login="alice")[0] == 200
    assert site.api("/api/package/alice/shared", login="alice")[0] == 404
    page.goto(site.url + "/acme/shared/settings/admin")
    page.get_by_label("Type the package's name to confirm").fill("shared")
    page.locator(".danger-zone").get_by_role("button", name="Delete").click()
    page.wait_for_load_state()
    assert any("deleted" in text for text in flash(page))
    assert site.api("/api/package/acme/shared", login="alice")[0] == 404
