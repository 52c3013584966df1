"""Talking to an upstream: bounded, verified, and never leaking its credential.

Every request has connect/read timeouts and an overall deadline; redirects are
followed only to the upstream's own host (or hosts the source allows), and the
credential is never sent to another host nor over a downgrade to plain http.
Sources are defined by any owner's admins, so unless the site allows it
(``anarepo.sources.private_upstreams``) every hop must resolve to public
addresses only: no loopback, private, link-local (cloud metadata) or reserved
ones, or a user could make the server read its own network.  Documents are size-capped; package
files are spooled into the blob temp dir while hashed (the same
:func:`anarepo.storage.spool` uploads use) and accepted only when their size and
sha256 equal what the upstream's index promised.  Failures raise
:class:`UpstreamError` whose message names the URL with any token redacted.
"""
from __future__ import annotations

import ipaddress
import logging
import re
import socket
import time
from urllib.parse import urljoin, urlsplit

import requests

from ..storage import TooLarge, spool

MAX_REDIRECTS = 5
TOKEN_IN_PATH = re.compile(r"/t/[^/]+/")


#: bytes of an upstream document kept in memory while it arrives; beyond, a temporary file
SPOOL_IN_MEMORY = 1 << 20
#: the largest upstream document read (conda-forge's linux-64 repodata.json: ~250 MB)
MAX_DOCUMENT = 1 << 30


class Body:
    """An upstream document as it arrived: a spooled temporary file (see
    :meth:`Fetcher.document`).  ``read()`` gives the bytes (for parsers that need
    them whole), ``stream()`` the file from its start, ``sha256()`` hashes it in chunks."""

    def __init__(self):
        import tempfile

        self.file = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.file.write(chunk)
        self.size += len(chunk)

    def stream(self):
        self.file.seek(0)
        return self.file

    def read(self) -> bytes:
        return self.stream().read()

    def sha256(self) -> str:
        import hashlib

        digest, stream = hashlib.sha256(), self.stream()
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
        return digest.hexdigest()

    def close(self) -> None:
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_bounded(stream, limit: int, message: str) -> bytes:
    """All of ``stream``, or UpstreamError(``message``) once more than ``limit`` bytes came."""
    chunks, size = [], 0
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise UpstreamError(message)
        chunks.append(chunk)


class UpstreamError(Exception):
    """The upstream failed or answered something unusable; nothing was stored.
    ``status``: the upstream's HTTP status when it answered one (404: it has no such thing)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def redact(url: str) -> str:
    return TOKEN_IN_PATH.sub("/t/<token>/", url)


class RedactTokens(logging.Filter):
    """urllib3 logs every request line at DEBUG, path token included: mask it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if TOKEN_IN_PATH.search(message):
            record.msg, record.args = redact(message), ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(RedactTokens())


class Deadline:
    """A file-like ``read`` that gives up once the overall time is spent (slow drips)."""

    def __init__(self, raw, seconds: float, url: str):
        self.raw, self.until, self.url = raw, time.monotonic() + seconds, url

    def read(self, n: int = -1) -> bytes:
        if time.monotonic() > self.until:
            raise UpstreamError(f"{redact(self.url)}: the download took too long")
        return self.raw.read(n)


def public_only(url: str) -> None:
    """Refuse ``url`` unless it is http(s) and its host resolves to global addresses only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UpstreamError(f"{redact(url)}: only http(s) URLs are fetched")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError, UnicodeError):
        raise UpstreamError(f"{redact(url)}: {parts.hostname} does not resolve") from None
    for info in infos:
        if not _public(info[4][0]):
            raise UpstreamError(f"{redact(url)}: {parts.hostname} is not a public address"
                                " (anarepo.sources.private_upstreams)")


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


def public_session() -> requests.Session:
    """A session whose every connection is checked once made: the peer must be a public
    address.  :func:`public_only` checks the name first (with a clear message), but DNS
    may answer differently a moment later (rebinding); the connected socket can not."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import NewConnectionError

    def checked(connection_class):
        class PublicPeer(connection_class):
            def _new_conn(self):
                sock = super()._new_conn()
                peer = sock.getpeername()[0]
                if not _public(peer):
                    sock.close()
                    raise NewConnectionError(self, f"{peer} is not a public address")
                return sock

        return PublicPeer

    pools = {"http": type("PublicHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": checked(HTTPConnection)}),
             "https": type("PublicHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": checked(HTTPSConnection)})}

    class PublicAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

    session = requests.Session()  # environment proxies are refused per request (Fetcher.get): the peer is the upstream
    for scheme in ("http://", "https://"):
        session.mount(scheme, PublicAdapter())
    return session


def fetcher_for(source, settings) -> "Fetcher":
    """The Fetcher the site's settings ask for (timeouts, private upstreams)."""
    from pyramid.settings import asbool

    return Fetcher(source, timeout=float(settings.get("anarepo.sources.timeout", 10)),
                   deadline=float(settings.get("anarepo.sources.deadline", 600)),
                   private_ok=asbool(settings.get("anarepo.sources.private_upstreams", False)))


class Fetcher:
    """One session per sync or proxy refresh, for one source."""

    def __init__(self, source, *, timeout: float = 10.0, deadline: float = 600.0,
                 max_document: int = MAX_DOCUMENT, session: requests.Session | None = None,
                 private_ok: bool = False):
        self.base = source.url
        self.private_ok = private_ok
        self.allow_hosts = {urlsplit(source.url).netloc.lower(), *source.allow_hosts}
        self.kind, self.user, self.secret = source.credential()
        self.timeout = (min(timeout, 10.0), timeout)
        self.deadline = deadline
        self.max_document = max_document
        self.session = session or (requests.Session() if private_ok else public_session())
        # with public upstreams only, no HTTP_PROXY (the proxy would be the checked peer);
        # the environment's CA bundle still counts
        self.proxies = None if private_ok else {"http": None, "https": None, "all": None}
        self.session.headers["User-Agent"] = "anarepo-mirror"

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` under the source (conda's token goes in the path)."""
        url = urljoin(self.base, path)
        if self.kind == "token":
            parts = urlsplit(url)
            url = f"{parts.scheme}://{parts.netloc}/t/{self.secret}{parts.path}"
        return url

    def _headers(self, url: str, extra: dict | None) -> tuple[dict, object]:
        headers = dict(extra or {})
        auth = None
        here, base = urlsplit(url), urlsplit(self.base)
        if here.netloc.lower() == base.netloc.lower() and here.scheme == base.scheme:
            if self.kind == "bearer":
                headers["Authorization"] = f"Bearer {self.secret}"
            elif self.kind == "basic":
                auth = (self.user, self.secret)
        return headers, auth

    def get(self, url: str, headers: dict | None = None) -> requests.Response:
        """GET following only allowed redirects; raises UpstreamError on anything else.
        The body is not read: the caller streams it (and closes the response)."""
        for _ in range(MAX_REDIRECTS + 1):
            host = urlsplit(url).netloc.lower()
            if host not in self.allow_hosts:
                raise UpstreamError(f"{redact(url)}: redirect to another host ({host}) refused")
            if not self.private_ok:
                public_only(url)
            hdrs, auth = self._headers(url, headers)
            try:
                response = self.session.get(url, headers=hdrs, auth=auth, timeout=self.timeout, stream=True,
                                            allow_redirects=False, proxies=self.proxies)
            except requests.RequestException as exc:
                raise UpstreamError(f"{redact(url)}: {type(exc).__name__}") from None
            if response.is_redirect:
                location = response.headers.get("Location", "")
                response.close()
                url = urljoin(url, location)
                continue
            if response.status_code == 304:
                return response
            if response.status_code != 200:
                response.close()
                raise UpstreamError(f"{redact(url)}: upstream answered {response.status_code}",
                                    response.status_code)
            return response
        raise UpstreamError(f"{redact(url)}: too many redirects")

    def document(self, url: str, validators=None, accept: str | None = None):
        """(Body or None when unchanged, (etag, last-modified), final content type).

        The body is spooled while it arrives: in memory up to :data:`SPOOL_IN_MEMORY`,
        then in a temporary file, and at most ``max_document`` bytes.  A caller that
        reads it as a stream (zstd documents, a shard's hash) never holds it whole."""
        headers = {"Accept": accept} if accept else {}
        if validators:
            etag, modified = validators
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
        response = self.get(url, headers)
        new = (response.headers.get("ETag", ""), response.headers.get("Last-Modified", ""))
        if response.status_code == 304:
            response.close()
            if not (validators and any(validators)):  # nothing to be unchanged from
                raise UpstreamError(f"{redact(url)}: upstream answered 304 to an unconditional request", 304)
            return None, validators, ""
        try:
            body = self._spool_document(response, url)
        finally:
            response.close()
        return body, new, response.headers.get("Content-Type", "")

    def _spool_document(self, response, url: str) -> "Body":
        body = Body()
        try:
            reader = Deadline(response.raw, self.deadline, url)
            response.raw.decode_content = True  # a gzip-encoded answer is counted decoded
            while True:
                chunk = reader.read(1 << 20)
                if not chunk:
                    break
                if body.size + len(chunk) > self.max_document:
                    raise UpstreamError(f"{redact(url)}: document larger than {self.max_document} bytes")
                body.write(chunk)
        except UpstreamError:
            body.close()
            raise
        except Exception as exc:  # timeouts, resets, urllib3 protocol errors (truncated bodies)
            body.close()
            raise UpstreamError(f"{redact(url)}: {type(exc).__name__} while reading") from None
        body.file.seek(0)
        return body

    def download(self, url: str, tmpdir: str, sha256: str | None, size: int | None, max_size: int):
        """Spool ``url`` and verify it; the caller owns (and discards) the Spooled."""
        response = self.get(url)
        try:
            response.raw.decode_content = False
            length = response.headers.get("Content-Length")
            if size is not None and length and length.isdigit() and int(length) != size:
                raise UpstreamError(f"{redact(url)}: upstream sends {length} bytes, its index says {size}")
            try:
                spooled = spool(Deadline(response.raw, self.deadline, url), tmpdir,
                                max_size if size is None else min(size, max_size))
            except TooLarge:
                raise UpstreamError(f"{redact(url)}: larger than announced") from None
            except UpstreamError:
                raise
            except Exception as exc:  # timeouts, resets, truncated bodies (urllib3 ProtocolError)
                raise UpstreamError(f"{redact(url)}: {type(exc).__name__} while downloading") from None
        finally:
            response.close()
        problem = None
        if size is not None and spooled.size != size:
            problem = f"got {spooled.size} bytes, expected {size}"
        elif sha256 and spooled.sha256 != sha256.lower():
            problem = "sha256 does not match the upstream index"
        if problem:
            spooled.discard()
            raise UpstreamError(f"{redact(url)}: {problem}")
        return spooled
