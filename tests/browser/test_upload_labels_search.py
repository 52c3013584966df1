"""Uploading every type from the browser, labels (copy, lock, move), search, user
pages, the notebook sandbox, a narrow screen and the keyboard."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from anarepo.package_types.pypi.builders import wheel
from tests.builders import ENVIRONMENT, notebook, project_archive, r_package
from tests.conda_builders import build_package

from .conftest import flash, shot


def upload(page, filename, data, **fields):
    page.get_by_role("link", name="Upload", exact=True).first.click()
    page.wait_for_load_state()
    page.get_by_label("File", exact=True).set_input_files({"name": filename, "mimeType": "application/octet-stream",
                                                           "buffer": data})
    if "owner" in fields:
        page.get_by_label("Owner").select_option(fields["owner"])
    if "type" in fields:
        page.get_by_label("Type").select_option(fields["type"])
    for label, key in (("Package name", "name"), ("Version", "version"), ("Label", "label")):
        if key in fields:
            page.get_by_label(re.compile("^" + label)).fill(fields[key])
    page.get_by_role("button", name="Upload").click()
    page.wait_for_load_state()


def test_upload_every_type_from_the_browser(site, as_user):
    page = as_user("bob")
    page.goto(site.url + "/dashboard")
    cases = [
        (*build_package("webconda", "1.0"), {}, "webconda", "conda"),
        (*wheel("webwheel", "0.3"), {"label": "beta"}, "webwheel", "pypi"),
        ("webnote.ipynb", notebook(title="Web note"), {}, "webnote", "ipynb"),
        ("environment.yml", ENVIRONMENT, {"name": "webenv"}, "webenv", "env"),
        ("webr_1.0.0.tar.gz", r_package("webr", "1.0.0"), {}, "webr", "r"),
        ("webproj.tar.gz", project_archive("webproj"), {}, "webproj", "project"),
        ("counts.csv", b"a,b\n1,2\n", {"name": "webdata", "version": "7"}, "webdata", "file"),
    ]
    for filename, data, fields, name, type_name in cases:
        upload(page, filename, data, **fields)
        assert page.url.rstrip("/").endswith(f"/bob/{name}"), (filename, page.url, page.locator(".error").all_inner_texts())
        assert any("Uploaded" in text for text in flash(page))
        status, package = site.api(f"/api/package/bob/{name}")
        assert status == 200 and type_name in package["package_types"], (name, package)
    assert site.api("/api/release/bob/webproj/1")[0] == 200  # projects get revision numbers
    assert site.api("/api/channels/bob/beta", login="bob")[1]["num_files"] == 1
    shot(page, "package-notebook")


def test_upload_errors_are_clear_and_leave_nothing(site, as_user):
    page = as_user("bob")
    page.goto(site.url + "/upload")
    shot(page, "upload")
    upload(page, "loose.csv", b"a\n1\n")
    expect(page.get_by_role("alert")).to_contain_text("could not be detected")
    expect(page.get_by_label("File", exact=True)).to_have_attribute("aria-describedby", "upload-error")
    upload(page, "broken.ipynb", b"{not json")
    expect(page.get_by_role("alert")).to_contain_text("not a valid notebook")
    upload(page, "dup.csv", b"a\n", name="dup", version="1")
    upload(page, "dup.csv", b"b\n", name="dup", version="1")
    expect(page.get_by_role("alert")).to_contain_text("already exists")
    assert site.api("/api/package/bob/loose")[0] == 404
    assert site.api("/api/package/bob/broken")[0] == 404
    with site.app.root() as root:
        assert [d.basename for d in root.owners["bob"].get_package("dup").distributions()] == ["dup.csv"]


def test_upload_to_an_organization(site, as_user):
    page = as_user("alice")
    page.goto(site.url + "/dashboard")
    upload(page, "org-report.csv", b"x\n", owner="acme", name="report", version="1")
    assert page.url.rstrip("/").endswith("/acme/report")
    assert site.api("/api/package/acme/report")[0] == 200
    bob = as_user("bob")
    bob.goto(site.url + "/upload")
    expect(bob.get_by_label("Owner").locator("option")).to_have_text(["bob"])  # bob may not upload to acme


def test_labels_copy_lock_and_move(site, as_user):
    site.app.upload("acme", "lbl-1.txt", b"1\n", type_name="file", name="lbl", version="1", labels=["beta"])
    site.app.upload("acme", "lbl-2.txt", b"2\n", type_name="file", name="lbl", version="2", labels=["beta"])
    page = as_user("alice")
    page.goto(site.url + "/organizations")
    page.locator("tr", has_text="acme").get_by_role("button", name="Switch To").click()
    page.locator("#tools-menu summary").click()
    page.locator("#tools-menu").get_by_role("link", name="Labels").click()
    page.wait_for_load_state()
    assert page.url.endswith("/acme/labels")
    expect(page.locator("tr[data-label=beta]")).to_contain_text("2")
    shot(page, "labels")
    page.get_by_label("From label").select_option("beta")
    page.get_by_label("To label").fill("rc")
    page.get_by_role("button", name="Copy").click()
    page.wait_for_load_state()
    expect(page.locator("tr[data-label=rc]")).to_contain_text("2")
    assert site.api("/api/channels/acme/rc", login="alice")[1]["num_files"] == 2
    page.get_by_role("button", name="Lock rc").click()
    page.wait_for_load_state()
    expect(page.locator("tr[data-label=rc]")).to_contain_text("locked")
    assert site.api("/api/channels/acme/rc", login="alice")[1]["is_locked"] is True
    page.get_by_role("button", name="Unlock rc").click()
    page.wait_for_load_state()
    assert site.api("/api/channels/acme/rc", login="alice")[1]["is_locked"] is False
    # move one file from beta to a new label
    page.get_by_role("link", name="beta").click()
    page.get_by_label("Select lbl-1.txt").check()
    page.get_by_label("Move the selected files to label").fill("stable")
    page.get_by_role("button", name="Move").click()
    page.wait_for_load_state()
    assert "Moved 1 file(s) from beta to stable" in " ".join(flash(page))
    with site.app.root() as root:
        labels = {d.basename: d.labels for d in root.owners["acme"].get_package("lbl").distributions()}
    assert labels == {"lbl-1.txt": ("rc", "stable"), "lbl-2.txt": ("beta", "rc")}
    # a locked label refuses a move, and says so
    page.goto(site.url + "/acme/labels")
    page.get_by_role("button", name="Lock stable").click()
    page.goto(site.url + "/acme/labels/rc")
    page.get_by_label("Select lbl-1.txt").check()
    page.get_by_label("Move the selected files to label").fill("stable")
    page.get_by_role("button", name="Move").click()
    expect(page.get_by_role("alert")).to_contain_text("locked")


def test_search_and_user_pages(site, as_user):
    page = as_user()
    page.goto(site.url + "/")
    page.get_by_label("Search packages").first.fill("baby")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator("#search-results")).to_contain_text("alice/baby-names")
    page.goto(site.url + "/search?q=secret")
    expect(page.locator("main")).to_contain_text("No package matches")
    page.goto(site.url + "/search?q=&type=ipynb")
    results = page.locator("#search-results")
    expect(results).to_contain_text("alice/analysis")
    expect(results).to_contain_text("alice/evil")
    expect(results).not_to_contain_text("baby-names")
    shot(page, "search")
    page.get_by_role("link", name="alice/analysis").click()
    expect(page.locator("iframe.notebook")).to_be_visible()
    page.get_by_role("link", name="alice", exact=True).first.click()
    expect(page.locator("main")).to_contain_text("baby-names")
    expect(page.locator("main")).not_to_contain_text("secret")
    shot(page, "user-page")
    owner = as_user("alice")
    owner.goto(site.url + "/search?q=secret")
    expect(owner.locator("#search-results")).to_contain_text("alice/secret")


def test_notebook_script_cannot_run_on_the_site(site, as_user):
    hostile = notebook([{
        "cell_type": "code", "execution_count": 1, "metadata": {}, "source": "display(HTML(...))",
        "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"text/html": (
            "<script>document.title='pwned:'+document.cookie;"
            "try{parent.document.title='pwned-parent'}catch(e){};"
            "try{parent.document.body.setAttribute('data-pwned','1')}catch(e){};"
            "try{localStorage.setItem('pwned','1')}catch(e){}</script><b id='marker'>bold</b>"
        )}}]}])
    site.app.upload("alice", "hostile.ipynb", hostile)
    page = as_user("alice")
    page.goto(site.url + "/alice/hostile")
    frame_element = page.locator("iframe.notebook")
    frame_element.scroll_into_view_if_needed()
    frame = page.frame_locator("iframe.notebook")
    expect(frame.locator("#marker")).to_have_text("bold")  # the output is shown...
    assert "allow-scripts" not in (frame_element.get_attribute("sandbox") or "")
    inner = frame_element.element_handle().content_frame()
    assert not inner.evaluate("document.title").startswith("pwned")  # ...but its script never ran
    assert page.title().startswith("alice/hostile")
    assert page.locator("body").get_attribute("data-pwned") is None
    assert page.evaluate("localStorage.getItem('pwned')") is None
    response = page.request.get(frame_element.get_attribute("src"))
    csp = response.headers["content-security-policy"]
    assert "sandbox" in csp and "script-src 'none'" in csp
    # opened directly (not in the iframe) the CSP still stops the script
    direct = as_user("alice")
    direct.goto(frame_element.get_attribute("src"))
    expect(direct.locator("#marker")).to_have_text("bold")
    assert not direct.title().startswith("pwned")


def test_narrow_screen_and_keyboard(site, as_user):
    page = as_user("alice", viewport={"width": 375, "height": 740})
    for path, name in (("/packages", "packages-narrow"), ("/alice/mypkg", "package-narrow"),
                       ("/alice/mypkg/files", "files-narrow"), ("/upload", "upload-narrow")):
        page.goto(site.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (path, overflow)
        shot(page, name)
    # keyboard: the skip link comes first; the Tools menu opens with Enter and closes with Escape
    page.goto(site.url + "/dashboard")
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    page.locator("#tools-menu summary").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#tools-menu")).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(page.locator("#tools-menu")).not_to_have_attribute("open", "")
    expect(page.locator("#tools-menu summary")).to_be_focused()
    # a dialog takes focus, Escape closes it and gives focus back
    page.goto(site.url + "/packages")
    page.get_by_label("Select baby-names").check()
    opener = page.locator(".toolbar").get_by_role("button", name="Delete")
    opener.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#delete-dialog input[name=confirm]")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#delete-dialog")).to_be_hidden()
    expect(opener).to_be_focused()
    assert site.api("/api/package/alice/baby-names")[0] == 200
