"""Downloads: 302 to a signed link, served from the blob, counted off the request."""
from urllib.parse import urlsplit

from anarepo.services.downloads import daily_downloads, download_counter


def _local(url):
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def test_download_redirects_to_a_self_authorizing_link(app, alice, anon, testapp):
    app.publish_file("alice", "secret", "1", "sub/s p+1.csv", b"private bytes", access="private")
    anon.get("/download/alice/secret/1/sub/s p+1.csv", status=404)
    redirect = alice.get("/download/alice/secret/1/sub/s p+1.csv", status=302)
    assert alice.token not in redirect.location
    served = testapp.get(_local(redirect.location))  # no credentials, as the CLI does
    assert served.body == b"private bytes"
    assert served.headers["Content-Disposition"] == 'attachment; filename="s p+1.csv"'
    assert served.etag
    ranged = testapp.get(_local(redirect.location), headers={"Range": "bytes=0-6"}, status=206)
    assert ranged.body == b"private"


def test_tampered_or_expired_links_are_refused(app, alice, testapp):
    app.publish_file("alice", "data", "1", "a.csv", b"a")
    location = _local(alice.get("/download/alice/data/1/a.csv", status=302).location)
    _, api, files, expires, sig, rest = location.split("/", 5)
    testapp.get(f"/api/files/{expires}/{'0' * 40}/{rest}", status=404)
    testapp.get(f"/api/files/{int(expires) + 1}/{sig}/{rest}", status=404)
    testapp.get(f"/api/files/1000/{sig}/{rest}", status=404)
    testapp.get(f"/api/files/{expires}/{sig}/alice/data/1/b.csv", status=404)


def test_download_counts_are_written_outside_the_request(app, alice, testapp):
    app.publish_file("alice", "data", "1", "a.csv", b"a")
    for _ in range(3):
        testapp.get(_local(alice.get("/download/alice/data/1/a.csv", status=302).location))
    assert alice.get("/dist/alice/data/1/a.csv").json["ndownloads"] == 0  # buffered
    assert download_counter(app.registry).flush() == 3
    assert alice.get("/dist/alice/data/1/a.csv").json["ndownloads"] == 3
    with app.root() as root:
        assert list(daily_downloads(root.owners["alice"].packages["data"]).values()) == [3]
