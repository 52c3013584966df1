"""What package and list pages show people (issue 15): download totals that agree
with the chart, sizes in units, one name per type, and a favicon."""
import re

from BTrees.Length import Length

from anarepo.services.downloads import download_counter
from anarepo.testing import web_login


def _text(page, element_id) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', page.text)
    assert match, f"no #{element_id}"
    return match.group(1)


def test_download_total_and_chart_count_the_same_downloads(app, testapp):
    app.make_user("alice")
    app.publish_file("alice", "data", "1", "keep.csv", b"k" * 10)
    app.publish_file("alice", "data", "1", "gone.csv", b"g" * 10)
    for name in ("keep.csv", "gone.csv", "gone.csv"):
        testapp.get(f"/alice/data/1/download/{name}")
    download_counter(app.registry).flush()
    page = testapp.get("/alice/data")
    assert _text(page, "download-total") == "3" and _text(page, "download-recent").startswith("3 downloads in")
    # removing a downloaded file keeps its downloads in both numbers (the total used to drop to 1)
    from anarepo.services.contents import remove_distribution

    with app.root() as root:
        remove_distribution(app.registry, root.owners["alice"].packages["data"].releases["1"].files["gone.csv"])
    page = testapp.get("/alice/data")
    assert _text(page, "download-total") == "3" and _text(page, "download-recent").startswith("3 downloads in")
    assert "all time" in page.text and "in these 30 days" in page.text
    # downloads older than the chart count in the all-time total only, as the labels say
    with app.root() as root:
        root.owners["alice"].packages["data"].download_history["2020-01-01"] = Length(5)
    page = testapp.get("/alice/data")
    assert _text(page, "download-total") == "8" and _text(page, "download-recent").startswith("3 downloads in")


def test_sizes_are_shown_with_units(app, testapp):
    app.make_user("alice")
    app.publish_file("alice", "data", "1", "big.csv", b"x" * 2_500_000)
    web_login(testapp, "alice")
    for path in ("/alice/data", "/alice/data/files", "/packages/files"):
        page = testapp.get(path)
        assert "2.5 MB" in page.text, path
        assert "2500000" not in page.text, path


def test_each_type_has_one_display_name(app, testapp):
    app.make_user("alice")
    app.upload("alice", "analysis.ipynb", b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
               name="analysis", version="1")
    app.upload("alice", "environment.yml", b"name: analysis-env\ndependencies:\n  - python\n",
               name="analysis-env", version="1")
    web_login(testapp, "alice")
    pages = [testapp.get(p).text for p in ("/alice", "/alice/analysis", "/alice/analysis/files", "/packages",
                                           "/packages/files", "/search?q=analysis")]
    for text in pages:
        assert not re.search(r"<td>(ipynb|env)</td>|· (ipynb|env)\b|file\(s\) · (ipynb|env)\b", text)
    assert "Notebook" in pages[0] and "Environment" in pages[0]
    assert "Notebook" in pages[1] and "Notebook" in pages[2]
    packages = pages[3]
    assert 'value="ipynb"' in packages and "> Notebook</label>" in packages and "> ipynb</label>" not in packages


def test_favicon(testapp):
    icon = testapp.get("/favicon.ico")
    assert icon.content_type == "image/x-icon" and icon.body[:4] == b"\x00\x00\x01\x00"
    assert icon.cache_control.max_age > 0
    assert 'rel="icon"' in testapp.get("/").text
