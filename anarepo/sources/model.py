"""Upstream sources of an owner's label: where packages come from, how, and what came.

A :class:`Source` lives in ``owner.sources`` (a Folder, name -> Source) and says:
an upstream conda channel or PyPI index (``kind``), copied ahead of time
(``mode = "mirror"``) or fetched on first request (``"proxy"``), into which label,
through which :mod:`filters <anarepo.sources.filters>`.  Its credential is kept
here and nowhere else: it is never serialized, shown or logged (``describe``
says only whether one is set).  ``files`` remembers what the source brought
(upstream key -> (package, version, basename, sha256)) so that a re-sync fetches
only what changed and can remove what left the filter; ``validators`` keep the
upstream documents' ETag/Last-Modified for conditional requests; ``history``
the last runs.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from persistent.list import PersistentList

from ..clock import isoformat, utcnow
from ..names import InvalidName, check_label

KINDS = ("conda", "pypi")
MODES = ("mirror", "proxy")
AUTH_KINDS = ("none", "token", "bearer", "basic")  # token: conda's /t/<token>/ in the path
SOURCE_NAME_RE = re.compile(r"^[a-z][a-z0-9._-]{0,63}$")
KEEP_RUNS = 50
#: the shape of a conda subdir (``noarch``, ``linux-64``, ``osx-arm64``, ``emscripten-wasm32``)
SUBDIR_RE = re.compile(r"[a-z0-9]{1,32}(?:-[a-z0-9_]{1,32})?")
SUBDIRS_MESSAGE = "subdirs must be a list of conda subdirs (noarch, linux-64, ...)"
DEFAULT_TTL = 600  # seconds a proxied index document is served before it is revalidated


class SourceError(ValueError):
    """A refused source definition or an upstream that can not be used; said to the user."""


def check_source_name(name: str) -> str:
    if not isinstance(name, str) or not SOURCE_NAME_RE.fullmatch(name.lower()):
        raise SourceError(f"invalid source name {name!r}: a letter, then letters, digits, '.', '_', '-'")
    return name.lower()


def check_url(url: str) -> str:
    """An absolute http(s) URL without credentials or fragment; normalized to end in ``/``."""
    from ..names import http_url

    if not isinstance(url, str) or not http_url(url) or http_url(url) != url:
        raise SourceError("the upstream URL must be an absolute http(s) URL")  # the links' own rule (names.py)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError when out of range
    except ValueError:  # an unclosed IPv6 bracket, a port beyond 65535
        raise SourceError("the upstream URL must be an absolute http(s) URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError("the upstream URL must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise SourceError("give credentials with --auth, not inside the URL (they would be shown)")
    if parts.fragment or parts.query:
        raise SourceError("the upstream URL may not carry a query or a fragment")
    return url if url.endswith("/") else url + "/"


class ProjectNames(Persistent):
    """A PyPI proxy's upstream project list, in a record of its own: loading a source
    does not load hundreds of thousands of names."""

    def __init__(self, names):
        self.names = tuple(names)


class Source(Persistent):
    """One upstream of ``owner``'s ``label``."""

    #: PyPI proxy: the upstream root's projects the filters let through (older sources: none)
    upstream_projects = None
    #: bumped whenever ``upstream_projects`` changes (part of the root page's cache key)
    projects_serial = 0
    #: upstream files may join packages that hold local uploads (anarepo.sources.shadowing)
    merge_local = False
    #: how many entries ``files`` holds (a conflict-free counter: ``len`` of a BTree reads
    #: every bucket); sources from before it count once, at their next write
    file_count = None

    def __init__(self, name: str, kind: str, url: str, *, mode: str = "mirror", label: str = "main",
                 subdirs=(), filters=None, remove_missing: bool = False, ttl: int = DEFAULT_TTL,
                 allow_hosts=(), merge_local: bool = False):
        if kind not in KINDS:
            raise SourceError(f"kind must be one of {', '.join(KINDS)}")
        self.__name__ = check_source_name(name)
        self.__parent__ = None
        self.name = self.__name__
        self.kind = kind
        self.url = check_url(url)
        self.filters = {}
        self.auth_kind = "none"
        self._auth_user = ""
        self._auth_secret = ""
        self.created = utcnow()
        self.files = OOBTree()  # upstream key -> (package name, version, basename, sha256, patch)
        self.file_count = Length()
        self.validators = OOBTree()  # upstream document -> (etag, last-modified)
        self.refreshed = OOBTree()  # scope (subdir, project or "*") -> time.time() of its last good read
        self.history = PersistentList()  # dicts of runs that changed something, newest last
        self.configure(mode=mode, label=label, subdirs=subdirs, filters=filters or {},
                       remove_missing=remove_missing, ttl=ttl, allow_hosts=allow_hosts,
                       merge_local=merge_local)

    def configure(self, **options) -> None:
        """Validate and set any of mode, label, subdirs, filters, remove_missing, ttl, allow_hosts,
        merge_local;
        nothing changes when one is refused.  New filters forget the upstream validators
        (the next run re-reads every document instead of trusting a 304)."""
        from .filters import Filters

        unknown = set(options) - {"mode", "label", "subdirs", "filters", "remove_missing", "ttl", "allow_hosts",
                                   "merge_local"}
        if unknown:
            raise SourceError(f"unknown option(s): {', '.join(sorted(unknown))}")
        new = {}
        if "mode" in options:
            if options["mode"] not in MODES:
                raise SourceError(f"mode must be one of {', '.join(MODES)}")
            new["mode"] = options["mode"]
        if "label" in options:
            try:
                new["label"] = check_label(options["label"])
            except InvalidName as exc:
                raise SourceError(str(exc)) from None
        if "subdirs" in options:
            subdirs = options["subdirs"] or ()
            # the shape here; which ones the conda type knows: check_scopes (service.py)
            if isinstance(subdirs, str) or not all(isinstance(x, str) and SUBDIR_RE.fullmatch(x) for x in subdirs):
                raise SourceError(SUBDIRS_MESSAGE)
            if subdirs and self.kind != "conda":
                raise SourceError("subdirs are for conda channels")
            new["subdirs"] = tuple(dict.fromkeys(subdirs))
        if "filters" in options:
            new["filters"] = Filters.parse(options["filters"], self.kind).as_dict()
        if "remove_missing" in options:
            new["remove_missing"] = bool(options["remove_missing"])
        if "merge_local" in options:
            if not isinstance(options["merge_local"], bool):
                raise SourceError("merge_local must be true or false")
            new["merge_local"] = options["merge_local"]
        if "ttl" in options:
            ttl = options["ttl"]
            if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= 31 * 86400:
                raise SourceError("ttl must be a number of seconds (0 to 31 days)")
            new["ttl"] = ttl
        if "allow_hosts" in options:
            hosts = options["allow_hosts"] or ()
            if isinstance(hosts, str) or not all(isinstance(h, str) and re.fullmatch(r"[A-Za-z0-9.:\[\]-]{1,255}", h)
                                                 for h in hosts):
                raise SourceError("allow_hosts must be a list of host[:port] names")
            new["allow_hosts"] = tuple(h.lower() for h in hosts)
        if "filters" in new and new["filters"] != self.filters:
            self.validators.clear()
            self.set_upstream_projects(None)  # re-read with the new filters
        for key, value in new.items():
            setattr(self, key, value)

    def set_upstream_projects(self, names) -> None:
        names = tuple(sorted(names)) if names is not None else None
        current = self.upstream_projects.names if self.upstream_projects is not None else None
        if names != current:
            self.upstream_projects = ProjectNames(names) if names is not None else None
            self.projects_serial += 1

    # -- what the source brought ---------------------------------------------------
    def count_files(self) -> int:
        return self.file_count() if self.file_count is not None else len(self.files)

    def remember(self, key: str, entry: tuple) -> None:
        """Record (or replace) what the source brought under ``key``."""
        self._counter()
        if key not in self.files:
            self.file_count.change(1)
        self.files[key] = entry

    def forget(self, key: str) -> None:
        self._counter()
        if key in self.files:
            del self.files[key]
            self.file_count.change(-1)

    def _counter(self) -> None:
        if self.file_count is None:
            self.file_count = Length(len(self.files))

    # -- credentials: write-only -------------------------------------------------
    def set_auth(self, kind: str, secret: str = "", user: str = "") -> None:
        if not isinstance(kind, str) or kind not in AUTH_KINDS:
            raise SourceError(f"auth must be one of {', '.join(AUTH_KINDS)}")
        # they go into HTTP headers: printable text only (a CR/LF would add a header of its own)
        if not isinstance(secret, str) or not (secret.isprintable() and len(secret) <= 4096):
            raise SourceError("the secret must be printable text")
        if not isinstance(user, str) or not (user.isprintable() and ":" not in user and len(user) <= 256):
            raise SourceError("the user must be printable text without ':'")
        if kind != "none" and not secret:
            raise SourceError("a credential needs its secret")
        if kind == "token" and not re.fullmatch(r"[A-Za-z0-9-]+", secret):
            raise SourceError("a conda channel token may only hold letters, digits and '-'")
        if kind == "token" and self.kind != "conda":
            raise SourceError("a token in the path is for conda channels; use bearer or basic")
        self.auth_kind = kind
        self._auth_user = user if kind == "basic" else ""
        self._auth_secret = secret if kind != "none" else ""

    def credential(self) -> tuple[str, str, str]:
        """(kind, user, secret), for the fetcher only."""
        return self.auth_kind, self._auth_user, self._auth_secret

    # -- runs ----------------------------------------------------------------------
    def record_run(self, run: dict) -> None:
        self.history.append(dict(run))
        while len(self.history) > KEEP_RUNS:
            del self.history[0]

    @property
    def last_run(self) -> dict | None:
        return dict(self.history[-1]) if len(self.history) else None

    def describe(self) -> dict:
        """What the API, the CLI and the web page show: never the secret."""
        return {
            "name": self.name,
            "kind": self.kind,
            "mode": self.mode,
            "url": self.url,
            "label": self.label,
            "subdirs": list(self.subdirs),
            "filters": dict(self.filters),
            "remove_missing": self.remove_missing,
            "merge_local": self.merge_local,
            "ttl": self.ttl,
            "allow_hosts": list(self.allow_hosts),
            "auth": self.auth_kind,
            "created": isoformat(self.created),
            "files": self.count_files(),
            "last_run": self.last_run,
        }
