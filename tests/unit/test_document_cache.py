"""The one document cache and the one conditional rule (anarepo/http/caching.py)."""
import threading
import time

from webob import Request

from anarepo import clock
from anarepo.http.caching import DocumentCache, etag_matches, not_modified


def test_least_recently_used_documents_leave_first_within_the_byte_bound():
    dropped = []
    cache = DocumentCache(max_bytes=10, on_drop=lambda key, value: dropped.append(key))
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # a is now the most recent
    cache.put("c", b"1234")
    assert dropped == ["b"] and set(cache.entries) == {"a", "c"} and cache.size == 8
    cache.put("huge", b"x" * 11)  # larger than the budget: answered, never kept
    assert "huge" not in cache.entries and cache.size == 8


def test_the_entry_bound_holds_too():
    cache = DocumentCache(max_bytes=1 << 20, max_entries=2)
    for key in "abc":
        cache.put(key, b"x")
    assert list(cache.entries) == ["b", "c"]


def test_a_document_asked_for_by_many_threads_at_once_is_built_once():
    cache = DocumentCache(max_bytes=1 << 20)
    builds = []

    def build():
        builds.append(1)
        time.sleep(0.05)
        return b"body"

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_build("k", build))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [b"body"] * 8 and len(builds) == 1
    assert cache.get_or_build("k", lambda: b"other") == b"body"
    assert not cache._building  # no lock left behind


def test_objects_count_their_own_bytes():
    class Doc:
        nbytes = 6

    cache = DocumentCache(max_bytes=10)
    cache.put("a", Doc())
    cache.put("b", Doc())
    assert list(cache.entries) == ["b"] and cache.size == 6


def test_if_none_match_compares_weakly_and_understands_lists_and_star():
    assert etag_matches('"x"', '"x"')
    assert etag_matches('W/"x"', '"x"')
    assert etag_matches('"a", "x"', '"x"')
    assert etag_matches("*", '"x"')
    assert not etag_matches('"xy"', '"x"')  # no substring match
    assert not etag_matches('"x-gz"', '"x"')
    assert not etag_matches("", '"x"') and not etag_matches('"x"', None)


def test_if_modified_since_is_honoured_only_once_the_second_is_over(monkeypatch):
    now = 1_700_000_000.5
    monkeypatch.setattr(clock, "epoch", lambda: now)
    request = Request.blank("/", headers={"If-Modified-Since": "Tue, 14 Nov 2023 22:13:20 GMT"})  # = int(now)
    assert not not_modified(request, '"e"', now - 0.2)  # changed within the current second: only the ETag counts
    assert not_modified(request, '"e"', now - 1)
    assert not not_modified(request, '"e"', now + 5)
    with_etag = Request.blank("/", headers={"If-None-Match": '"other"', "If-Modified-Since": request.headers[
        "If-Modified-Since"]})
    assert not not_modified(with_etag, '"e"', now - 10)  # If-None-Match wins when sent
