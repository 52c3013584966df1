"""Bad upstreams: every failure is reported on the run, nothing wrong is stored, nothing raises."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from anarepo.sources.model import SourceError

from .conftest import add, sync


def stored(testapp):
    doc = testapp.get("/conda/alice/noarch/repodata.json").json
    return sorted({**doc["packages"], **doc["packages.conda"]})


def upstream_bytes(upstream, key):
    return (Path(upstream.directory) / key).read_bytes()


@pytest.mark.parametrize("rule,message", [
    ({"body": b"not the package at all"}, "upstream sends"),
    ({"truncate": True}, "while downloading"),
    ({"status": 500}, "answered 500"),
    ({"hang": 3}, "Timeout"),
    ({"redirect": "http://localhost:9/elsewhere"}, "redirect to another host"),
])
def test_a_bad_file_is_refused_and_the_rest_is_mirrored(mirror_app, testapp, conda_upstream, rule, message):
    mirror_app.registry.settings["anarepo.sources.timeout"] = "1"
    add(mirror_app, url=conda_upstream.url)
    conda_upstream.misbehave.rules["/noarch/tool-2.0-0.tar.bz2"] = rule
    run = sync(mirror_app)
    assert run["failed"] == 1 and message in run["errors"][0], run
    assert run["added"] == 3
    assert "tool-2.0-0.tar.bz2" not in stored(testapp)
    testapp.get("/conda/alice/noarch/tool-2.0-0.tar.bz2", status=404)


def test_same_size_wrong_bytes_fail_the_sha256_check(mirror_app, testapp, conda_upstream):
    good = upstream_bytes(conda_upstream, "noarch/tool-2.0-0.tar.bz2")
    conda_upstream.misbehave.rules["/noarch/tool-2.0-0.tar.bz2"] = {"body": bytes(len(good))}
    add(mirror_app, url=conda_upstream.url)
    run = sync(mirror_app)
    assert run["failed"] == 1 and "sha256 does not match" in run["errors"][0]
    assert "tool-2.0-0.tar.bz2" not in stored(testapp)


@pytest.mark.parametrize("body,message", [
    (b"{not json", "not JSON"),
    (b"[1, 2]", "not a repodata object"),
    (json.dumps({"packages": {"x-1-0.tar.bz2": {"name": 1}}}).encode(), "malformed record"),
    (json.dumps({"packages": []}).encode(), "not an object"),
])
def test_malformed_repodata_stores_nothing(mirror_app, testapp, conda_upstream, body, message):
    from tests.upstreams import drop_shards

    drop_shards(conda_upstream.directory)
    conda_upstream.misbehave.rules["/noarch/repodata.json"] = {"body": body}
    add(mirror_app, url=conda_upstream.url)
    run = sync(mirror_app)
    assert run["added"] == 0 and run["failed"] == 1 and message in run["errors"][0], run
    assert stored(testapp) == []


def _zst(doc) -> bytes:
    import msgpack
    import zstandard

    return zstandard.ZstdCompressor().compress(msgpack.packb(doc, use_bin_type=True))


@pytest.mark.parametrize("body,message", [
    (b"not zstd at all", "not a zstd msgpack document"),
    (_zst([1, 2]), "not a map"),
    (_zst({"info": {}, "shards": []}), "shards is not a map"),
    (_zst({"info": {}, "shards": {"tool": b"short"}}), "malformed shard entry"),
    (_zst({"info": {}, "shards": {"tool": bytes(32)}}), "upstream answered 404"),  # no such shard
    (None, "larger than"),
])
def test_malformed_shard_indexes_store_nothing(mirror_app, testapp, conda_upstream, body, message):
    if body is None:  # a small zstd frame that decompresses to more than the bound
        import zstandard

        from anarepo.sources import upstream

        body = zstandard.ZstdCompressor(level=1).compress(bytes(upstream.MAX_DECOMPRESSED + (1 << 20)))
    conda_upstream.misbehave.rules["/noarch/repodata_shards.msgpack.zst"] = {"body": body}
    add(mirror_app, url=conda_upstream.url)
    run = sync(mirror_app)
    assert run["added"] == 0 and run["failed"] == 1 and message in run["errors"][0], run
    assert stored(testapp) == []


def test_a_shard_whose_bytes_do_not_match_its_hash_stores_nothing(mirror_app, testapp, conda_upstream):
    shards = Path(conda_upstream.directory) / "noarch" / "shards"
    for shard in shards.iterdir():
        conda_upstream.misbehave.rules[f"/noarch/shards/{shard.name}"] = {"body": _zst({"packages": {}})}
    add(mirror_app, url=conda_upstream.url)
    run = sync(mirror_app)
    assert run["added"] == 0 and run["failed"] == 1 and "does not match its sha256" in run["errors"][0], run
    assert stored(testapp) == []


def test_an_unreachable_upstream_is_one_error(mirror_app, testapp):
    add(mirror_app, url="http://127.0.0.1:9/")
    run = sync(mirror_app)
    assert run["failed"] == 1 and "ConnectionError" in run["errors"][0]


def test_redirects_to_an_allowed_host_are_followed(mirror_app, testapp, conda_upstream):
    other = conda_upstream.url.replace("127.0.0.1", "localhost")
    moved = Path(conda_upstream.directory) / "moved"
    moved.mkdir()
    (moved / "tool-2.0-0.tar.bz2").write_bytes(upstream_bytes(conda_upstream, "noarch/tool-2.0-0.tar.bz2"))
    conda_upstream.misbehave.rules["/noarch/tool-2.0-0.tar.bz2"] = {"redirect": other + "moved/tool-2.0-0.tar.bz2"}
    add(mirror_app, url=conda_upstream.url, allow_hosts=(other.split("/")[2],))
    run = sync(mirror_app)
    assert (run["added"], run["failed"]) == (4, 0), run
    assert ("/moved/tool-2.0-0.tar.bz2", "") in conda_upstream.misbehave.requests


def test_a_malformed_pypi_page_stores_nothing(mirror_app, testapp, pypi_upstream):
    pypi_upstream.misbehave.rules["/simple/demo/"] = {"body": b"\xff\xfe not utf-8"}
    add(mirror_app, kind="pypi", url=pypi_upstream.url, filters={"names": ["demo"]})
    run = sync(mirror_app)
    assert run["failed"] == 1 and "not UTF-8" in run["errors"][0]
    testapp.get("/pypi/alice/simple/demo/", status=404)


def test_credentials_are_sent_only_to_the_upstream_and_never_shown(mirror_app, conda_upstream):
    from anarepo.sources.service import add_source

    with mirror_app.root() as root:
        source = add_source(root.owners["alice"], "secret", "conda", conda_upstream.url, auth="bearer",
                            secret="s3cr3t-value")
        described = json.dumps(source.describe())
    assert "s3cr3t" not in described and '"auth": "bearer"' in described
    with mirror_app.root() as root:
        with pytest.raises(SourceError, match="letters, digits"):
            add_source(root.owners["alice"], "tok", "conda", conda_upstream.url, auth="token", secret="a/b")


@pytest.mark.parametrize("url", ["ftp://host/", "http:///nohost", "http://user:pw@host/", "http://h/?q=1",
                                 "javascript:alert(1)", "http://h/ x"])
def test_bad_urls_are_refused(mirror_app, url):
    from anarepo.sources.service import add_source

    with pytest.raises(SourceError):
        with mirror_app.root() as root:
            add_source(root.owners["alice"], "bad", "conda", url)
    with mirror_app.root() as root:
        assert len(root.owners["alice"].sources) == 0


@pytest.mark.parametrize("fields", [{"timestamp": "soon"}, {"timestamp": [1]}, {"license": 3}])
def test_odd_record_fields_are_not_an_exception(mirror_app, testapp, conda_upstream, fields):
    """A record field of the wrong JSON type counts as absent for the filters (was a ValueError/TypeError)."""
    from tests.upstreams import drop_shards

    drop_shards(conda_upstream.directory)  # the test edits repodata.json by hand
    path = Path(conda_upstream.directory) / "noarch" / "repodata.json"
    doc = json.loads(path.read_text())
    doc["packages"]["tool-1.0-0.tar.bz2"].update(fields)
    path.write_text(json.dumps(doc))
    add(mirror_app, url=conda_upstream.url, filters={"after": "2000-01-01", "licenses": ["?*"]})
    run = sync(mirror_app)
    assert run["failed"] == 0, run
    assert "tool-1.0-0.tar.bz2" not in stored(testapp)  # no timestamp / license: not after the cut-off / no match


@pytest.mark.parametrize("hashes", [["sha256", "0" * 64], "sha256=" + "0" * 64, None])
def test_a_pep691_page_with_odd_hashes_is_not_an_exception(mirror_app, testapp, pypi_upstream, hashes):
    page = {"meta": {"api-version": "1.0"}, "name": "demo",
            "files": [{"filename": "demo-1.0-py3-none-any.whl", "url": "demo-1.0-py3-none-any.whl", "hashes": hashes}]}
    pypi_upstream.misbehave.rules["/simple/demo/"] = {"body": json.dumps(page).encode(),
                                                      "content_type": "application/vnd.pypi.simple.v1+json"}
    add(mirror_app, kind="pypi", url=pypi_upstream.url, filters={"names": ["demo"]})
    run = sync(mirror_app)
    assert (run["added"], run["failed"]) == (0, 0), run  # nothing to verify it against: never fetched
    testapp.get("/pypi/alice/simple/demo/", status=404)


@pytest.mark.parametrize("reason", ["x" * 5000, "bad\x00reason"])
def test_an_upstream_yank_reason_is_bounded_like_ours(mirror_app, testapp, pypi_upstream, pypi_files, reason):
    """A yank reason goes through the same text rule as the web form's and the API's
    (1000 characters, no control characters); beyond it the file stays yanked, reason-less."""
    import hashlib

    name = "demo-1.0-py3-none-any.whl"
    page = {"meta": {"api-version": "1.0"}, "name": "demo",
            "files": [{"filename": name, "url": f"../../packages/{name}", "yanked": reason,
                       "hashes": {"sha256": hashlib.sha256(pypi_files[name]).hexdigest()}}]}
    pypi_upstream.misbehave.rules["/simple/demo/"] = {"body": json.dumps(page).encode(),
                                                      "content_type": "application/vnd.pypi.simple.v1+json"}
    add(mirror_app, kind="pypi", url=pypi_upstream.url, filters={"names": ["demo"], "yanked": "keep"})
    run = sync(mirror_app)
    assert (run["added"], run["failed"]) == (1, 0), run
    (mirrored,) = testapp.get("/pypi/alice/simple/demo/",
                              headers={"Accept": "application/vnd.pypi.simple.v1+json"}).json["files"]
    assert mirrored["yanked"] is True


@pytest.mark.parametrize("fields", [{"depends": 5}, {"depends": ["ok", 7]}, {"constrains": ["x" * 5000]},
                                    {"license": ["GPL"]}])
def test_a_record_an_upload_would_refuse_is_not_mirrored(mirror_app, testapp, conda_upstream, fields):
    """The upstream record's patchable fields replace the file's own in our repodata:
    a record an upload's index.json rules refuse is left out (was: served as written)."""
    from tests.upstreams import drop_shards

    drop_shards(conda_upstream.directory)  # the test edits repodata.json by hand
    path = Path(conda_upstream.directory) / "noarch" / "repodata.json"
    doc = json.loads(path.read_text())
    doc["packages"]["tool-1.0-0.tar.bz2"].update(fields)
    path.write_text(json.dumps(doc))
    add(mirror_app, url=conda_upstream.url)
    run = sync(mirror_app)
    assert run["failed"] == 0, run
    assert "tool-1.0-0.tar.bz2" not in stored(testapp) and "tool-2.0-0.tar.bz2" in stored(testapp)


def test_a_large_upstream_document_is_spooled_not_held_in_memory(conda_upstream):
    """Reading a 48 MiB document costs a bounded amount of memory while it arrives
    (a spooled temporary file), and its consumers read it as a stream."""
    import hashlib
    import os
    import tracemalloc

    from anarepo.sources.fetch import SPOOL_IN_MEMORY, Fetcher

    data = os.urandom(1 << 20) * 48
    (Path(conda_upstream.directory) / "noarch" / "huge.msgpack.zst").write_bytes(data)
    source = type("S", (), {"url": conda_upstream.url, "allow_hosts": (), "credential": lambda self: ("none", "", "")})
    fetcher = Fetcher(source(), private_ok=True)
    tracemalloc.start()
    try:
        body, _, _ = fetcher.document(conda_upstream.url + "noarch/huge.msgpack.zst")
        with body:
            digest = body.sha256()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest == hashlib.sha256(data).hexdigest() and body.size == len(data)
    assert peak < 4 * SPOOL_IN_MEMORY + (2 << 20), peak  # not the document's 48 MiB (twice, joined)


def test_a_304_to_an_unconditional_request_is_a_run_error(mirror_app, testapp, conda_upstream):
    """A shard (fetched without validators) answered 304: an error of the run, not an exception."""
    add(mirror_app, url=conda_upstream.url)
    shard = next((Path(conda_upstream.directory) / "noarch" / "shards").iterdir())
    conda_upstream.misbehave.rules[f"/noarch/shards/{shard.name}"] = {"status": 304}
    run = sync(mirror_app)
    assert run["failed"] == 1 and "304 to an unconditional request" in run["errors"][0], run
    assert stored(testapp) == []
