"""Simple-API documents from index state: PEP 503/629 HTML and PEP 691 JSON.

One data model, two renderers.  HTML is frozen at api-version 1.4 (PEP 833);
JSON carries every PEP 691/700/658/714/592/740/792 field.  All file links are
relative (``../../files/<pkey>/<version>/<filename>``) so a page is the same
bytes whatever token prefix or host it was reached through.
"""
from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from ...plugins.api import pep440_key

API_VERSION = "1.4"
HTML = "text/html"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_LATEST = "application/vnd.pypi.simple.latest+html"
JSON_LATEST = "application/vnd.pypi.simple.latest+json"

#: requested type -> the concrete type we answer with
CONCRETE = {
    HTML: HTML,
    HTML_V1: HTML_V1,
    JSON_V1: JSON_V1,
    HTML_LATEST: HTML_V1,
    JSON_LATEST: JSON_V1,
}
OFFERS = [HTML, HTML_V1, JSON_V1, HTML_LATEST, JSON_LATEST]


def is_json(content_type: str) -> bool:
    return content_type == JSON_V1


def file_url(record: dict) -> str:
    return "../../files/{}/{}/{}".format(
        quote(record["pkey"], safe=""), quote(record["version"], safe=""), quote(record["filename"], safe="")
    )


def _metadata_value(record):
    sha = record.get("metadata_sha256")
    return {"sha256": sha} if sha else False


def _yanked(record):
    reason = record.get("yanked")
    if reason is None:
        return False
    return reason or True


def sort_records(records) -> list[dict]:
    return sorted(records, key=lambda r: (pep440_key(r["version"]), r["filename"]))


def versions_of(records) -> list[str]:
    return sorted({r["version"] for r in records}, key=pep440_key)


# -- project page ---------------------------------------------------------------------
def project_json(name: str, records: list[dict]) -> bytes:
    files = []
    for r in records:
        meta = _metadata_value(r)
        files.append({
            "filename": r["filename"],
            "url": file_url(r),
            "hashes": {"sha256": r["sha256"]},
            "requires-python": r.get("requires_python"),
            "core-metadata": meta,
            "dist-info-metadata": meta,
            "gpg-sig": False,
            "yanked": _yanked(r),
            "size": r["size"],
            "upload-time": r.get("upload_time"),
            "provenance": None,
        })
    doc = {
        "meta": {"api-version": API_VERSION},
        "name": name,
        "versions": versions_of(records),
        "files": files,
        "project-status": {"status": "active"},
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _anchor(r: dict) -> str:
    attrs = [f'href="{escape(file_url(r))}#sha256={r["sha256"]}"']
    if r.get("requires_python"):
        attrs.append(f'data-requires-python="{escape(r["requires_python"])}"')
    if r.get("metadata_sha256"):
        value = f'sha256={r["metadata_sha256"]}'
        attrs.append(f'data-core-metadata="{value}"')
        attrs.append(f'data-dist-info-metadata="{value}"')
    if r.get("yanked") is not None:
        attrs.append(f'data-yanked="{escape(r["yanked"])}"')
    return f'    <a {" ".join(attrs)}>{escape(r["filename"])}</a><br />\n'


def _html_page(title: str, body: str) -> bytes:
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f"    <title>{escape(title)}</title>\n  </head>\n  <body>\n"
        f"    <h1>{escape(title)}</h1>\n{body}  </body>\n</html>\n"
    ).encode("utf-8")


def project_html(name: str, records: list[dict]) -> bytes:
    return _html_page(f"Links for {name}", "".join(_anchor(r) for r in records))


# -- project list -------------------------------------------------------------------------
def index_json(projects: list[tuple[str, str]]) -> bytes:
    doc = {
        "meta": {"api-version": API_VERSION},
        "projects": [{"name": display} for _, display in projects],
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def index_html(projects: list[tuple[str, str]]) -> bytes:
    body = "".join(
        f'    <a href="{escape(quote(name, safe=""))}/">{escape(display)}</a><br />\n'
        for name, display in projects
    )
    return _html_page("Simple index", body)


@dataclass(frozen=True)
class Page:
    """A rendered page as the document cache keeps it: the bytes, their gzip form
    (pages above 1 KiB) and a strong ETag of the content."""

    body: bytes
    gzipped: bytes | None
    etag: str
    content_type: str

    @property
    def nbytes(self) -> int:
        return len(self.body) + len(self.gzipped or b"")


def make_page(body: bytes, content_type: str) -> Page:
    etag = hashlib.sha256(body).hexdigest()[:40]
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if len(body) > 1024 else None
    return Page(body, gzipped, etag, content_type)
