"""The conda channel face over WebTest: documents, variants, caching, downloads."""
from __future__ import annotations

import hashlib

import msgpack
import pytest
import zstandard

from tests.conda_builders import build_package, publish_conda


def unzstd(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


@pytest.fixture
def channel(app):
    app.make_user("alice")
    files = {}
    for args, kw in [
        (("tool", "1.0"), {"depends": ["lib >=1"], "run_exports": {"weak": ["tool >=1.0"]}}),
        (("tool", "1.1"), {"fmt": ".conda", "depends": ["lib >=1"]}),
        (("lib", "1.0", "h1"), {"subdir": "linux-64", "fmt": ".conda"}),
        (("lib", "0.5", "h1"), {"subdir": "linux-64"}),
    ]:
        fn, data = build_package(*args, **kw)
        files[fn] = data
        publish_conda(app, "alice", fn, data)
    return files


def test_repodata_has_the_cep36_shape_and_channel_computed_fields(testapp, channel):
    response = testapp.get("/conda/alice/noarch/repodata.json")
    assert response.content_type == "application/json"
    doc = response.json
    assert doc["info"] == {"subdir": "noarch"} and doc["repodata_version"] == 1 and doc["removed"] == []
    assert sorted(doc["packages"]) == ["tool-1.0-0.tar.bz2"]
    assert sorted(doc["packages.conda"]) == ["tool-1.1-0.conda"]
    for fn, rec in {**doc["packages"], **doc["packages.conda"]}.items():
        data = channel[fn]
        assert rec["md5"] == hashlib.md5(data).hexdigest()
        assert rec["sha256"] == hashlib.sha256(data).hexdigest()
        assert rec["size"] == len(data)
        assert rec["depends"] == ["lib >=1"] and rec["subdir"] == "noarch" and rec["noarch"] == "generic"
        assert isinstance(rec["indexed_timestamp"], int) and rec["indexed_timestamp"] >= rec["timestamp"]
        assert rec.get("run_exports") == ({"weak": ["tool >=1.0"]} if fn == "tool-1.0-0.tar.bz2" else None)
    linux = testapp.get("/conda/alice/linux-64/repodata.json").json
    assert sorted(linux["packages"]) == ["lib-0.5-h1.tar.bz2"]
    assert linux["packages.conda"]["lib-1.0-h1.conda"]["arch"] == "x86_64"


def test_zst_is_the_same_document_with_the_same_etag(testapp, channel):
    plain = testapp.get("/conda/alice/noarch/repodata.json")
    zst = testapp.get("/conda/alice/noarch/repodata.json.zst")
    assert unzstd(zst.body) == plain.body
    assert zst.headers["ETag"] == plain.headers["ETag"] and not zst.headers["ETag"].startswith("W/")
    assert "Content-Encoding" not in zst.headers


@pytest.mark.parametrize("path", ["repodata.json", "repodata.json.zst", "current_repodata.json",
                                  "repodata_shards.msgpack.zst"])
def test_conditional_requests_and_head(testapp, channel, path, monkeypatch):
    from anarepo import clock

    later = clock.epoch() + 2  # Last-Modified is sent once the second of the change is over
    monkeypatch.setattr(clock, "epoch", lambda: later)
    url = f"/conda/alice/noarch/{path}"
    first = testapp.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert testapp.get(url, headers={"If-None-Match": etag}, status=304).body == b""
    assert testapp.get(url, headers={"If-None-Match": f'"other", {etag}'}, status=304)
    assert testapp.get(url, headers={"If-Modified-Since": modified}, status=304)
    assert testapp.get(url, headers={"If-None-Match": '"stale"'}, status=200).body == first.body
    head = testapp.head(url)
    assert head.body == b"" and head.headers["Content-Length"] == str(len(first.body))
    assert head.headers["ETag"] == etag


def test_two_changes_within_one_second_never_answer_304_to_if_modified_since(app, testapp, monkeypatch):
    """Last-Modified has one-second resolution: a change in the same second as the
    copy a client holds must not be hidden by a 304 (issue 15)."""
    from anarepo import clock

    app.make_user("alice")
    second = int(clock.epoch()) + 10
    moments = iter([second + 0.1, second + 0.2, second + 0.3, second + 0.4, second + 0.5])
    now = {"t": next(moments)}
    monkeypatch.setattr(clock, "epoch", lambda: now["t"])
    publish_conda(app, "alice", *build_package("tool", "1.0"))  # changed at .1
    now["t"] = next(moments)
    first = testapp.get("/conda/alice/noarch/repodata.json")  # read at .2, in the same second
    assert "Last-Modified" not in first.headers  # the second is not over: no date validator yet
    now["t"] = next(moments)
    publish_conda(app, "alice", *build_package("tool", "2.0"))  # changed again at .3
    now["t"] = next(moments)
    from email.utils import formatdate

    same_second = formatdate(second, usegmt=True)  # what a client could hold for the first copy
    again = testapp.get("/conda/alice/noarch/repodata.json", headers={"If-Modified-Since": same_second})
    assert again.status_int == 200 and "tool-2.0-0.tar.bz2" in again.json["packages"]
    now["t"] = second + 2.0  # the second is over: the date validator works again
    dated = testapp.get("/conda/alice/noarch/repodata.json")
    assert dated.headers["Last-Modified"] == same_second
    testapp.get("/conda/alice/noarch/repodata.json", headers={"If-Modified-Since": same_second}, status=304)


def test_a_new_upload_changes_the_etag(app, testapp, channel):
    before = testapp.get("/conda/alice/noarch/repodata.json")
    fn, data = build_package("tool", "2.0")
    publish_conda(app, "alice", fn, data)
    after = testapp.get("/conda/alice/noarch/repodata.json", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_int == 200 and fn in after.json["packages"]
    assert after.headers["ETag"] != before.headers["ETag"]
    # other subdirs did not change
    linux = testapp.get("/conda/alice/linux-64/repodata.json")
    assert testapp.get("/conda/alice/linux-64/repodata.json", headers={"If-None-Match": linux.headers["ETag"]},
                       status=304)


@pytest.mark.parametrize("path", [
    "noarch/repodata.json.bz2", "noarch/repodata.jlap", "noarch/run_exports.json.gz", "noarch/nope",
    "linux-999/repodata.json", "noarch/shards/" + "0" * 64 + ".msgpack.zst", "noarch/shards/xyz",
    "noarch/tool-9.9-0.tar.bz2", "noarch/tool-1.0-0.zip", "label/nolabel/noarch/repodata.json",
    "label/missing/noarch/repodata.json",
])
def test_absent_variants_are_404_never_500(testapp, channel, path):
    testapp.get(f"/conda/alice/{path}", status=404)
    testapp.head(f"/conda/alice/{path}", status=404)


def test_unknown_owner_is_404(testapp):
    testapp.get("/conda/nobody/noarch/repodata.json", status=404)


def test_noarch_is_always_present_and_known_subdirs_are_empty(app, testapp):
    app.make_user("bob")
    for subdir in ("noarch", "osx-arm64"):
        doc = testapp.get(f"/conda/bob/{subdir}/repodata.json").json
        assert doc == {"info": {"subdir": subdir}, "packages": {}, "packages.conda": {}, "removed": [],
                       "repodata_version": 1}
    index = msgpack.unpackb(unzstd(testapp.get("/conda/bob/noarch/repodata_shards.msgpack.zst").body))
    assert index["shards"] == {}
    assert testapp.get("/conda/bob/channeldata.json").json == {
        "channeldata_version": 1, "packages": {}, "subdirs": ["noarch"]}


def test_current_repodata_keeps_only_the_latest_version(testapp, channel):
    doc = testapp.get("/conda/alice/linux-64/current_repodata.json").json
    assert doc["packages"] == {} and sorted(doc["packages.conda"]) == ["lib-1.0-h1.conda"]
    noarch = testapp.get("/conda/alice/noarch/current_repodata.json").json
    assert list(noarch["packages"]) == [] and list(noarch["packages.conda"]) == ["tool-1.1-0.conda"]


def test_shards_index_and_content_addressed_shards(testapp, channel):
    response = testapp.get("/conda/alice/noarch/repodata_shards.msgpack.zst")
    assert response.headers["Cache-Control"] == "public, max-age=60"
    index = msgpack.unpackb(unzstd(response.body))
    assert index["version"] == 1
    assert index["info"]["subdir"] == "noarch" and index["info"]["shards_base_url"] == "./shards/"
    assert index["info"]["base_url"] == ""
    assert set(index["shards"]) == {"tool"}
    digest = index["shards"]["tool"]
    shard_resp = testapp.get(f"/conda/alice/noarch/shards/{digest.hex()}.msgpack.zst")
    assert hashlib.sha256(shard_resp.body).digest() == digest
    assert shard_resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    shard = msgpack.unpackb(unzstd(shard_resp.body))
    assert sorted(shard) == ["packages", "packages.conda", "removed"]
    rec = shard["packages"]["tool-1.0-0.tar.bz2"]
    data = channel["tool-1.0-0.tar.bz2"]
    assert rec["sha256"] == hashlib.sha256(data).digest() and rec["md5"] == hashlib.md5(data).digest()
    assert rec["run_exports"] == {"weak": ["tool >=1.0"]}
    plain = testapp.get("/conda/alice/noarch/repodata.json").json["packages"]["tool-1.0-0.tar.bz2"]
    assert {k: v for k, v in rec.items() if k not in ("md5", "sha256")} == {
        k: v for k, v in plain.items() if k not in ("md5", "sha256")}
    testapp.get(f"/conda/alice/noarch/shards/{digest.hex()}.msgpack.zst",
                headers={"If-None-Match": shard_resp.headers["ETag"]}, status=304)


def _shard_hex(testapp, name="tool"):
    index = msgpack.unpackb(unzstd(testapp.get("/conda/alice/noarch/repodata_shards.msgpack.zst").body))
    return index["shards"][name].hex()


def test_superseded_shards_stay_as_long_as_an_index_naming_them_may_be_cached(app, testapp, channel, monkeypatch):
    """A client may hold the shard index for max-age seconds: the shards it names must
    answer that long, however many uploads happen meanwhile (issue 15: only 2 were kept)."""
    from anarepo import clock
    from anarepo.package_types.conda import index as conda_index

    held = [_shard_hex(testapp)]
    for version in ("3.0", "3.1", "3.2", "3.3"):  # quick uploads of one package
        publish_conda(app, "alice", *build_package("tool", version))
        held.append(_shard_hex(testapp))
    assert len(set(held)) == 5
    for digest in held:
        testapp.get(f"/conda/alice/noarch/shards/{digest}.msgpack.zst", status=200)
    later = clock.epoch() + conda_index.KEEP_SHARDS_SECONDS + 1
    monkeypatch.setattr(clock, "epoch", lambda: later)
    publish_conda(app, "alice", *build_package("tool", "4.0"))
    for digest in held[:-1]:  # superseded longer ago than any index may be cached
        testapp.get(f"/conda/alice/noarch/shards/{digest}.msgpack.zst", status=404)
    testapp.get(f"/conda/alice/noarch/shards/{held[-1]}.msgpack.zst", status=200)  # superseded just now
    assert conda_index.KEEP_SHARDS_SECONDS >= int(app.registry.settings.get("anarepo.conda.max_age", 60))


def test_a_max_age_longer_than_shards_are_kept_is_refused(tmp_path):
    from pyramid.exceptions import ConfigurationError

    from anarepo import main
    from anarepo.testing import make_settings

    with pytest.raises(ConfigurationError, match="max_age"):
        main({}, **make_settings(tmp_path, **{"anarepo.conda.max_age": "86400"}))


def test_package_download(testapp, channel):
    for subdir, fn in [("noarch", "tool-1.0-0.tar.bz2"), ("linux-64", "lib-1.0-h1.conda")]:
        response = testapp.get(f"/conda/alice/{subdir}/{fn}")
        assert response.body == channel[fn]
        assert response.headers["ETag"] == f'"{hashlib.sha256(channel[fn]).hexdigest()}"'
        assert response.headers["Cache-Control"] == "public, no-cache"  # replaceable (--force)
        testapp.get(f"/conda/alice/{subdir}/{fn}", headers={"If-None-Match": response.headers["ETag"]}, status=304)
        ranged = testapp.get(f"/conda/alice/{subdir}/{fn}", headers={"Range": "bytes=0-9"}, status=206)
        assert ranged.body == channel[fn][:10]
    testapp.get("/conda/alice/linux-64/tool-1.0-0.tar.bz2", status=404)  # wrong subdir


def test_channeldata(testapp, channel):
    doc = testapp.get("/conda/alice/channeldata.json").json
    assert doc["channeldata_version"] == 1 and doc["subdirs"] == ["linux-64", "noarch"]
    tool = doc["packages"]["tool"]
    assert tool["version"] == "1.1" and tool["subdirs"] == ["noarch"]
    assert tool["run_exports"] == {"1.0": {"weak": ["tool >=1.0"]}}
    assert tool["summary"] == "tool for tests" and tool["home"] == "https://example.org"
    assert tool["activate.d"] is False and isinstance(tool["timestamp"], int)
    assert tool["timestamp"] < 10**11  # seconds (CEP 38)
    assert doc["packages"]["lib"]["subdirs"] == ["linux-64"]
    assert testapp.get("/conda/alice/label/main/channeldata.json").body == testapp.get(
        "/conda/alice/channeldata.json").body


def test_main_label_is_the_default(testapp, channel):
    plain = testapp.get("/conda/alice/noarch/repodata.json")
    labelled = testapp.get("/conda/alice/label/main/noarch/repodata.json")
    assert plain.body == labelled.body and plain.headers["ETag"] == labelled.headers["ETag"]
    testapp.get("/conda/alice/label/MAIN/noarch/repodata.json", status=200)
    testapp.get("/conda/alice/label/main/label/main/noarch/repodata.json", status=404)


def test_labels_are_separate_channels(app, testapp, channel):
    fn, data = build_package("tool", "2.0.dev1")
    publish_conda(app, "alice", fn, data, labels=["dev"])
    dev = testapp.get("/conda/alice/label/dev/noarch/repodata.json").json
    assert list(dev["packages"]) == [fn]
    assert fn not in testapp.get("/conda/alice/noarch/repodata.json").json["packages"]
    testapp.get(f"/conda/alice/label/dev/noarch/{fn}", status=200)
    testapp.get(f"/conda/alice/noarch/{fn}", status=404)
    assert testapp.get("/conda/alice/label/dev/channeldata.json").json["packages"]["tool"]["version"] == "2.0.dev1"


def test_subdomain_and_token_forms_reach_the_same_channel(app, testapp, channel):
    plain = testapp.get("/conda/alice/noarch/repodata.json")
    sub = testapp.get("/alice/noarch/repodata.json", extra_environ={"HTTP_HOST": "conda.example.org"})
    assert sub.body == plain.body


def test_a_file_published_without_inspection_is_read_from_its_blob(app, testapp):
    app.make_user("carol")
    fn, data = build_package("raw", "1.0", subdir="linux-64")
    app.publish_file("carol", "raw", "1.0", f"linux-64/{fn}", data, type_name="conda")
    rec = testapp.get("/conda/carol/linux-64/repodata.json").json["packages"][fn]
    assert rec["name"] == "raw" and rec["sha256"] == hashlib.sha256(data).hexdigest()


def test_conda_downloads_are_counted(app, testapp):
    """Counting happens off the request (GETs never write); a flush makes it visible."""
    from anarepo.services.downloads import download_counter
    from tests.conda_builders import build_package

    app.make_user("counter")
    fn, data = build_package("counted", "1.0")
    app.upload("counter", fn, data)
    for _ in range(3):
        testapp.get(f"/conda/counter/noarch/{fn}")
    testapp.head(f"/conda/counter/noarch/{fn}")
    download_counter(app.registry).flush()
    with app.root() as root:
        (dist,) = root.owners["counter"].packages["counted"].distributions()
        assert dist.downloads() == 3


def test_indexes_of_older_releases_get_todays_fields_from_an_evolve_step(app, testapp, channel):
    """Fields later releases added to the index (pre-encoded shard entries, public
    revisions, superseded times) come from ``conda.index-fields-1``, never from a
    heal on the first write; the documents read the same afterwards."""
    from anarepo.evolve import evolve
    from anarepo.package_types.conda.index import get_channel, label_index, subdir_index

    url = "/conda/alice/noarch/repodata_shards.msgpack.zst"
    current = testapp.get(url).body
    repodata = testapp.get("/conda/alice/noarch/repodata.json").body
    with app.root() as root:  # as an index written by an older release looks
        lab = label_index(get_channel(root.owners["alice"]), "main")
        sub = subdir_index(lab, "noarch")
        for index in (lab, sub):
            del index.public_revision
        del sub.shard_entries
        for bucket in sub.buckets.values():
            bucket.shards = {**bucket.shards, "00" * 32: b"an older shard"}
            del bucket.superseded
        root.finished_evolve_steps.remove("conda.index-fields-1")
    assert evolve(app.registry) == ["conda.index-fields-1"]
    with app.root() as root:
        lab = label_index(get_channel(root.owners["alice"]), "main")
        sub = subdir_index(lab, "noarch")
        assert sorted(sub.shard_entries.keys()) == sorted(sub.shard_hashes.keys()) == ["tool"]
        for index in (lab, sub):
            assert (index.public_revision.counter, index.public_revision.mtime) == (
                index.revision.counter, index.revision.mtime)
        bucket = sub.buckets["tool"]
        assert "00" * 32 in bucket.superseded and bucket.shard_hex not in bucket.superseded
    assert msgpack.unpackb(unzstd(testapp.get(url).body))["shards"] == msgpack.unpackb(unzstd(current))["shards"]
    assert testapp.get("/conda/alice/noarch/repodata.json").body == repodata
    fn, data = build_package("other", "1.0")
    publish_conda(app, "alice", fn, data)
    assert sorted(msgpack.unpackb(unzstd(testapp.get(url).body))["shards"]) == ["other", "tool"]


@pytest.mark.parametrize("old,new", [("1.1.0", "1.1.1w"), ("2.8.4", "2.8.5_1")])
def test_latest_is_conda_version_order_everywhere(app, testapp, old, new):
    """current_repodata.json, channeldata and the API's latest_version (issue 15)."""
    app.make_user("alice")
    for version in (new, old):  # upload order must not matter
        publish_conda(app, "alice", *build_package("openssl", version, "h1", subdir="linux-64", fmt=".conda"))
    current = testapp.get("/conda/alice/linux-64/current_repodata.json").json["packages.conda"]
    assert [rec["version"] for rec in current.values()] == [new]
    assert testapp.get("/conda/alice/channeldata.json").json["packages"]["openssl"]["version"] == new
    assert testapp.get("/api/package/alice/openssl").json["latest_version"] == new
    assert testapp.get("/api/package/alice/openssl").json["versions"] == [old, new]


def test_databases_from_before_conda_version_order_are_evolved(app, testapp):
    from anarepo.evolve import evolve
    from anarepo.package_types.conda.index import get_channel

    app.make_user("alice")
    for version in ("1.1.0", "1.1.1w"):
        publish_conda(app, "alice", *build_package("openssl", version, "h1", subdir="linux-64", fmt=".conda"))
    with app.root() as root:  # what the PEP 440 order had kept
        package = root.owners["alice"].packages["openssl"]
        package.latest_version = "1.1.0"
        sub = get_channel(root.owners["alice"]).labels["main"].subdirs["linux-64"]
        frags = sub.frags["openssl"]
        sub.frags["openssl"] = (frags[0], frags[1], b"", frags[1].split(b',"openssl-1.1.1w')[0], frags[4])
        for step in ("core.version-order-1", "conda.version-order-1"):
            root.finished_evolve_steps.remove(step)
    assert evolve(app.registry) == ["core.version-order-1", "conda.version-order-1"]
    assert testapp.get("/api/package/alice/openssl").json["latest_version"] == "1.1.1w"
    current = testapp.get("/conda/alice/linux-64/current_repodata.json").json["packages.conda"]
    assert list(current) == ["openssl-1.1.1w-h1.conda"]


def _raw_get(server, url, headers):
    """Raw bytes and headers over HTTP (WebTest would decode gzip for us)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", url, headers=headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("path", ["noarch/repodata.json", "noarch/current_repodata.json", "channeldata.json"])
def test_json_documents_honour_accept_encoding(channel, live_server, path):
    """As conda-index behind a CDN and anaconda.org do (issue 15: Accept-Encoding was ignored)."""
    import gzip

    url = f"/conda/alice/{path}"
    _, plain_headers, plain = _raw_get(live_server, url, {})
    assert "Content-Encoding" not in plain_headers and "Accept-Encoding" in plain_headers["Vary"]
    for accept, encoding, decode in [("gzip, deflate", "gzip", gzip.decompress),
                                     ("gzip, deflate, br, zstd", "zstd", unzstd),
                                     ("zstd;q=0.5, gzip", "gzip", gzip.decompress)]:
        status, headers, body = _raw_get(live_server, url, {"Accept-Encoding": accept})
        assert headers["Content-Encoding"] == encoding, accept
        assert decode(body) == plain
        assert headers["Content-Length"] == str(len(body))
        assert "Accept-Encoding" in headers["Vary"] and headers["ETag"] != plain_headers["ETag"]
        again = _raw_get(live_server, url, {"Accept-Encoding": accept, "If-None-Match": headers["ETag"]})
        assert again[0] == 304
    for accept in ("identity", "gzip;q=0", "br"):
        assert _raw_get(live_server, url, {"Accept-Encoding": accept})[2] == plain


@pytest.mark.parametrize("path", ["noarch/tool-1.0-0.tar.bz2"])
def test_package_files_take_one_range_and_answer_several_with_the_whole_file(testapp, channel, path):
    whole = testapp.get(f"/conda/alice/{path}")
    assert whole.headers["Accept-Ranges"] == "bytes"
    part = testapp.get(f"/conda/alice/{path}", headers={"Range": "bytes=2-5"}, status=206)
    assert part.body == whole.body[2:6]
    several = testapp.get(f"/conda/alice/{path}", headers={"Range": "bytes=0-1,5-6"})
    assert several.status_int == 200 and several.body == whole.body  # never just the first range
