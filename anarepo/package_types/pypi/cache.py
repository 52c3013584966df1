"""A process-local cache of rendered simple pages, keyed by revision and visibility.

GET transactions are doomed (they can not write), so rendered pages are not
stored in the database; each process renders a page once per (index revision,
set of packages the requester may see, format) and keeps the bytes, their gzip
form and a strong ETag.  A new revision is a new key; old entries age out of
the LRU.  Keys never contain a token or a user, only what the page shows.
"""
from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    body: bytes
    gzipped: bytes | None
    etag: str
    content_type: str


def make_page(body: bytes, content_type: str) -> Page:
    etag = hashlib.sha256(body).hexdigest()[:40]
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if len(body) > 1024 else None
    return Page(body, gzipped, etag, content_type)


class PageCache:
    """A bounded LRU (entries and bytes); safe for waitress's threads."""

    def __init__(self, max_entries: int = 2048, max_bytes: int = 256 << 20):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.entries: OrderedDict = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key):
        with self.lock:
            page = self.entries.get(key)
            if page is None:
                self.misses += 1
                return None
            self.entries.move_to_end(key)
            self.hits += 1
            return page

    def put(self, key, page: Page) -> Page:
        cost = len(page.body) + len(page.gzipped or b"")
        if cost > self.max_bytes:
            return page
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= len(old.body) + len(old.gzipped or b"")
            self.entries[key] = page
            self.size += cost
            while len(self.entries) > self.max_entries or self.size > self.max_bytes:
                _, dropped = self.entries.popitem(last=False)
                self.size -= len(dropped.body) + len(dropped.gzipped or b"")
        return page

    def get_or_render(self, key, render) -> Page:
        page = self.get(key)
        if page is None:
            page = self.put(key, render())
        return page

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0


def page_cache(registry) -> PageCache:
    cache = getattr(registry, "anarepo_pypi_pages", None)
    if cache is None:
        settings = registry.settings
        cache = PageCache(
            int(settings.get("anarepo.pypi.page_cache_entries", 2048)),
            int(settings.get("anarepo.pypi.page_cache_bytes", 256 << 20)),
        )
        registry.anarepo_pypi_pages = cache
    return cache
