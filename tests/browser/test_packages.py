"""Tools → Packages (filters, Delete, Set access), the package page and its Files tab,
walked in Chromium as a person would, with the outcome checked through the API."""
from __future__ import annotations

import json
import re
import urllib.request

from playwright.sync_api import expect

from anarepo.services.downloads import download_counter

from .conftest import flash, shot


def open_tools(page, item):
    page.locator("#tools-menu summary").click()
    page.locator("#tools-menu").get_by_role("link", name=item, exact=True).click()
    page.wait_for_load_state()


def row_names(page):
    return page.locator("#package-table tbody tr td:nth-child(2) a").all_inner_texts()


def test_packages_list_filters(site, as_user):
    page = as_user("alice")
    shot(page, "dashboard")
    open_tools(page, "Packages")
    assert page.url.endswith("/packages")
    names = row_names(page)
    assert {"mypkg", "pyfoo", "analysis", "baby-names", "secret", "myproject", "mytool"} <= set(names)
    shot(page, "packages")
    page.get_by_label("Conda", exact=True).check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#package-table")).to_be_visible()
    assert row_names(page) == ["mypkg"]
    page.get_by_label("Notebook").check()
    page.get_by_role("button", name="Apply filters").click()
    assert set(row_names(page)) == {"analysis", "evil"}
    page.get_by_label("All", exact=True).first.check()
    page.locator("fieldset", has_text="Access").get_by_label("Private").check()
    page.get_by_role("button", name="Apply filters").click()
    assert row_names(page) == ["secret"]
    open_tools(page, "Projects")
    assert row_names(page) == ["myproject"]


def test_delete_packages_in_the_dialog(site, as_user):
    for name in ("doomed-one", "doomed-two", "kept"):
        site.app.upload("alice", f"{name}.txt", b"x\n", type_name="file", name=name, version="1")
    page = as_user("alice")
    page.goto(site.url + "/packages?type=file")
    page.get_by_label("Select doomed-one").check()
    page.get_by_label("Select doomed-two").check()
    page.locator(".toolbar").get_by_role("button", name="Delete").click()
    dialog = page.locator("#delete-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("There is no undo")
    expect(dialog).to_contain_text("2 selected")
    confirm = dialog.get_by_label(re.compile("Type the account name"))
    expect(confirm).to_be_focused()
    submit = dialog.get_by_role("button", name="Delete")
    confirm.fill("alic")
    expect(submit).to_be_disabled()
    shot(page, "packages-delete-dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert site.api("/api/package/alice/doomed-one")[0] == 200  # cancel deleted nothing
    page.locator(".toolbar").get_by_role("button", name="Delete").click()
    confirm.fill("alice")
    expect(submit).to_be_enabled()
    submit.click()
    page.wait_for_load_state()
    assert "Deleted alice/doomed-one, alice/doomed-two" in " ".join(flash(page))
    assert "doomed-one" not in row_names(page) and "kept" in row_names(page)
    assert site.api("/api/package/alice/doomed-one")[0] == 404
    assert site.api("/api/package/alice/doomed-two")[0] == 404
    assert site.api("/api/package/alice/kept")[0] == 200


def test_set_access_in_the_popup(site, as_user):
    site.app.upload("alice", "shy.txt", b"x\n", type_name="file", name="shy", version="1")
    page = as_user("alice")
    page.goto(site.url + "/packages")
    page.get_by_label("Select shy").check()
    page.get_by_role("button", name="Set access").click()
    dialog = page.locator("#access-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Private").check()
    shot(page, "packages-access-dialog")
    dialog.get_by_role("button", name="Set access").click()
    page.wait_for_load_state()
    expect(page.locator("tr", has_text="shy").locator(".access")).to_have_text("private")
    assert site.api("/api/package/alice/shy")[0] == 404  # hidden from strangers now
    assert site.api("/api/package/alice/shy", login="alice")[1]["access"] == "private"
    page.get_by_label("Select shy").check()
    page.get_by_role("button", name="Set access").click()
    dialog.get_by_label("Public").check()
    dialog.get_by_role("button", name="Set access").click()
    page.wait_for_load_state()
    assert site.api("/api/package/alice/shy")[0] == 200


def test_delete_without_javascript_asks_on_a_page(site, as_user):
    site.app.upload("alice", "nojs.txt", b"x\n", type_name="file", name="nojs", version="1")
    page = as_user("alice", java_script_enabled=False)
    page.goto(site.url + "/packages")
    page.get_by_label("Select nojs").check()
    page.locator(".toolbar").get_by_role("button", name="Delete").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Delete 1 package(s)")).to_be_visible()
    assert site.api("/api/package/alice/nojs")[0] == 200
    page.get_by_label(re.compile("Type the account name")).fill("bob")
    page.get_by_role("button", name="Delete").click()
    expect(page.locator(".error")).to_contain_text("does not match")
    assert site.api("/api/package/alice/nojs")[0] == 200
    page.get_by_label(re.compile("Type the account name")).fill("alice")
    page.get_by_role("button", name="Delete").click()
    page.wait_for_load_state()
    assert site.api("/api/package/alice/nojs")[0] == 404


def test_package_page_install_labels_and_download_chart(site, as_user):
    page = as_user()
    page.goto(site.url + "/alice/mypkg")
    install = page.locator("#install")
    expect(install).to_contain_text("conda install -c alice mypkg")
    install.locator("summary", has_text="dev").click()
    expect(install).to_contain_text("conda install -c alice/label/dev mypkg")
    expect(install).to_contain_text(f"{site.url}/conda/alice/label/dev")
    expect(install).to_contain_text("anaconda download alice/mypkg")
    # download a file twice as a person would (the link on the page), then see the chart
    with page.expect_download():
        page.locator("#latest-files a").first.click()
    page.request.get(page.locator("#latest-files a").first.get_attribute("href"))
    download_counter(site.app.registry).flush()
    page.reload()
    expect(page.locator("#download-total")).to_have_text("2")
    bars = page.locator("svg.chart rect")
    expect(bars).to_have_count(1)
    assert bars.first.get_attribute("data-count") == "2"
    shot(page, "package-page")
    page.goto(site.url + "/alice/pyfoo")
    expect(page.locator("#install")).to_contain_text(f"pip install --index-url {site.url}/pypi/alice/simple/ pyfoo")


def test_private_package_shows_token_commands_and_is_hidden(site, as_user):
    stranger = as_user()
    response = stranger.goto(site.url + "/alice/secret")
    assert response.status == 404
    page = as_user("alice")
    page.goto(site.url + "/alice/secret")
    install = page.locator("#install")
    expect(install).to_contain_text("anaconda -t <TOKEN> download alice/secret")
    expect(install).to_contain_text("access token")


def test_files_tab_delete_files_and_remove_a_version(site, as_user):
    for version in ("1", "2", "3"):
        site.app.upload("alice", f"data-{version}.csv", b"a,b\n1,2\n", type_name="file", name="dataset",
                        version=version)
        site.app.upload("alice", f"notes-{version}.txt", b"n\n", type_name="file", name="dataset", version=version)
    page = as_user("alice")
    page.goto(site.url + "/alice/dataset")
    page.get_by_role("navigation", name="Package").get_by_role("link", name="Files").click()
    page.wait_for_load_state()
    releases = page.locator(".release")
    expect(releases).to_have_count(3)
    # version 3 is expanded; expand version 2 and pick one file of each
    page.locator(".release", has_text="notes-2.txt").locator("summary").click()
    page.get_by_label("Select notes-3.txt").check()
    page.get_by_label("Select notes-2.txt").check()
    shot(page, "package-files")
    page.locator(".toolbar").get_by_role("button", name="Delete").click()
    dialog = page.locator("#delete-files-dialog")
    expect(dialog).to_contain_text("There is no undo")
    dialog.get_by_label(re.compile("Type the account name")).fill("alice")
    dialog.get_by_role("button", name="Delete").click()
    page.wait_for_load_state()
    files = site.api("/api/package/alice/dataset")[1]["files"]
    assert sorted(f["basename"] for f in files) == ["data-1.csv", "data-2.csv", "data-3.csv", "notes-1.txt"]
    # Actions → Remove for a past version
    page.get_by_label("Select version 1").check()
    page.locator("details.actions summary").click()
    page.locator("details.actions").get_by_role("button", name="Remove").click()
    dialog = page.locator("#remove-versions-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label(re.compile("Type the account name")).fill("alice")
    dialog.get_by_role("button", name="Remove").click()
    page.wait_for_load_state()
    assert "Removed alice/dataset/1" in " ".join(flash(page))
    assert site.api("/api/release/alice/dataset/1")[0] == 404
    assert site.api("/api/release/alice/dataset/2")[0] == 200
    expect(page.locator(".release")).to_have_count(2)


def test_stranger_sees_no_edit_controls_and_cannot_post(site, as_user):
    page = as_user("bob")
    page.goto(site.url + "/alice/baby-names/files")
    expect(page.locator(".release")).to_have_count(2)
    expect(page.locator("input[name=file]")).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = page.request.post(site.url + "/alice/baby-names/files", form={
        "action": "delete", "file": "1/baby-names1.csv", "confirm": "alice", "csrf_token": token})
    assert response.status == 403
    assert site.api("/api/release/alice/baby-names/1")[0] == 200
    owner = as_user("alice")
    response = owner.request.post(site.url + "/alice/baby-names/files",
                                  form={"action": "delete", "file": "1/baby-names1.csv", "confirm": "alice"})
    assert response.status == 400 and "did not come from this site" in response.text()  # no CSRF token
    assert site.api("/api/release/alice/baby-names/1")[0] == 200


def test_owner_files_tab_deletes_selected_files(site, as_user):
    """The spec: Packages → Files tab → expand a package → tick files → Delete → type the account name."""
    site.app.upload("alice", "rows-1.csv", b"a\n1\n", type_name="file", name="sheets", version="1")
    site.app.upload("alice", "rows-2.csv", b"a\n2\n", type_name="file", name="sheets", version="2")
    page = as_user("alice")
    page.goto(site.url + "/packages")
    page.get_by_role("navigation", name="Packages").get_by_role("link", name="Files").click()
    page.wait_for_load_state()
    group = page.locator("details.file-group", has_text="sheets")
    group.locator("summary").click()
    group.get_by_label("Select rows-1.csv (1)").check()
    shot(page, "owner-files")
    page.locator(".toolbar").get_by_role("button", name="Delete").click()
    dialog = page.locator("#delete-files-dialog")
    expect(dialog).to_contain_text("There is no undo")
    submit = dialog.get_by_role("button", name="Delete")
    expect(submit).to_be_disabled()
    dialog.get_by_label(re.compile("Type the account name")).fill("alice")
    submit.click()
    page.wait_for_load_state()
    assert "Deleted sheets/1/rows-1.csv" in " ".join(flash(page))
    files = site.api("/api/package/alice/sheets")[1]["files"]
    assert [f["basename"] for f in files] == ["rows-2.csv"]


def test_yank_a_pypi_file_from_the_files_tab(site, as_user):
    from anarepo.package_types.pypi import builders

    wheel, data = builders.wheel("yankme", "1.0")
    site.app.upload("alice", wheel, data)
    page = as_user("alice")
    page.goto(site.url + "/alice/yankme/files")
    page.get_by_label(f"Select {wheel}").check()
    page.get_by_label("Yank reason").fill("bad build")
    page.locator("details.actions summary").click()
    page.get_by_role("button", name="Yank", exact=True).click()
    page.wait_for_load_state()
    assert f"Yanked {wheel}." in " ".join(flash(page))
    expect(page.locator("tbody tr", has_text=wheel).locator(".badge", has_text="yanked")).to_be_visible()
    shot(page, "files-yanked")
    with urllib.request.urlopen(urllib.request.Request(
            site.url + "/pypi/alice/simple/yankme/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})) as r:
        assert json.load(r)["files"][0]["yanked"] == "bad build"
