"""Reading upstream indexes into plans: which files a source wants, with their promises.

A plan is ``{key: Want}``: the key names a file the same way on every run
(``<subdir>/<fn>`` for conda, ``<project>/<filename>`` for PyPI), and the Want
carries its URL, the sha256 and size to verify it against, and (conda) the
record fields upstream repodata patches changed.  Malformed documents raise
:class:`UpstreamError`: nothing is planned from them.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, unquote, urldefrag, urljoin

from .fetch import UpstreamError, read_bounded
from .filters import Filters, conda_version_key, pypi_version_key

#: Record fields upstream repodata patches may change (they override the file's own),
#: with their types.
PATCH_TYPES = {"depends": list, "constrains": list, "track_features": str, "license": str, "license_family": str}
PATCHABLE = tuple(PATCH_TYPES)


def patch_ok(patch) -> bool:
    """Whether ``patch`` carries only patchable fields, each of its type (lists of strings)."""
    return isinstance(patch, dict) and all(
        key in PATCH_TYPES and isinstance(value, PATCH_TYPES[key])
        and (PATCH_TYPES[key] is not list or all(isinstance(v, str) for v in value))
        for key, value in patch.items())
PYPI_JSON = "application/vnd.pypi.simple.v1+json"
PYPI_ACCEPT = f"{PYPI_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"


@dataclass
class Want:
    url: str
    filename: str  # what publishing inspects it as (conda: "<subdir>/<fn>")
    sha256: str
    size: int | None
    patch: dict = field(default_factory=dict)
    yanked: str | None = None
    name: str = ""
    version: str = ""
    record: dict = field(default_factory=dict)  # proxy placeholders: the raw conda record / PyPI requires-python
    upload_time: str = ""  # bundles: the exporting server's upload time, kept


@dataclass
class Listing:
    """What one upstream document said: wanted files, removed ones, and its validators."""

    wants: dict
    removed: set
    validators: dict  # document URL -> (etag, last-modified)
    unchanged: set  # key prefixes whose document answered 304 (keep what was there)
    read: set = field(default_factory=set)  # key prefixes (subdirs, projects) this listing covers
    projects: list | None = None  # PyPI proxy: every upstream project the filters let through (the root)
    unchanged_names: set = field(default_factory=set)  # (subdir, package name) whose CEP-16 shard is unchanged
    #: key prefix ("<subdir>/") -> the package names whose files this listing may have
    #: changed (their shard changed, left the index or the filters): an incremental
    #: CEP-16 read; a prefix absent here was read whole
    scan_names: dict = field(default_factory=dict)


_HEX = {64: re.compile(r"[0-9a-fA-F]{64}"), 32: re.compile(r"[0-9a-fA-F]{32}")}


def _hex(value, length=64) -> str:
    if isinstance(value, (bytes, bytearray)) and len(value) == length // 2:  # CEP-16 shards: raw digests
        return value.hex()
    return value.lower() if isinstance(value, str) and _HEX[length].fullmatch(value) else ""


# -- conda ----------------------------------------------------------------------------
SHARD_INDEX = "repodata_shards.msgpack.zst"
#: decompressed bytes a shard index or a shard may reach (a hostile upstream's zstd bomb)
MAX_DECOMPRESSED = 256 << 20
#: shards fetched at once
SHARD_FETCHES = 8


def conda_listing(fetcher, subdirs, filters: Filters, validators: dict, records) -> Listing:
    """Read each subdir: its CEP-16 shard index when the upstream offers one (then only
    the shards whose hash changed since the last good run), else ``repodata.json``;
    both conditionally."""
    listing = Listing({}, set(), {}, set())
    for subdir in subdirs:
        listing.read.add(f"{subdir}/")
        if not _read_shards(fetcher, subdir, filters, records, validators, listing):
            _read_repodata(fetcher, subdir, filters, records, validators, listing)
    return listing


def _read_repodata(fetcher, subdir, filters, records, validators, listing) -> None:
    url = fetcher.url(f"{subdir}/repodata.json")
    body, new, _ = fetcher.document(url, validators.get(f"{subdir}/repodata.json"))
    listing.validators[f"{subdir}/repodata.json"] = new
    if body is None:
        listing.unchanged.add(f"{subdir}/")
        return
    try:
        with body:  # json has no streaming parser: the document is read whole here
            repodata = json.load(body.stream())
    except ValueError:
        raise UpstreamError(f"{subdir}/repodata.json is not JSON") from None
    if not isinstance(repodata, dict):
        raise UpstreamError(f"{subdir}/repodata.json is not a repodata object")
    info = repodata.get("info") if isinstance(repodata.get("info"), dict) else {}
    _add_records(listing, filters, records, subdir, f"{subdir}/repodata.json", repodata,
                 _base(fetcher, url, subdir, info))


def _base(fetcher, url, subdir, info) -> str:
    base = info.get("base_url")
    if isinstance(base, str) and base:  # CEP-15: relative to the index document's own URL
        return urljoin(url, base if base.endswith("/") else base + "/")
    return fetcher.url(f"{subdir}/")


def _unpack(body, what: str):
    """A zstd-compressed msgpack document (a spooled :class:`~.fetch.Body`), decompressed
    from its file to at most :data:`MAX_DECOMPRESSED` bytes."""
    import msgpack
    import zstandard

    try:
        reader = zstandard.ZstdDecompressor().stream_reader(body.stream())
        data = read_bounded(reader, MAX_DECOMPRESSED, f"{what}: larger than {MAX_DECOMPRESSED} bytes decompressed")
        doc = msgpack.unpackb(data, raw=False, strict_map_key=False)
    except (zstandard.ZstdError, ValueError, msgpack.UnpackException) as exc:
        raise UpstreamError(f"{what} is not a zstd msgpack document ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise UpstreamError(f"{what} is not a map")
    return doc


def _read_shards(fetcher, subdir, filters, records, validators, listing) -> bool:
    """The CEP-16 way; False when the upstream has no shard index (it answers 404)."""
    doc = f"{subdir}/{SHARD_INDEX}"
    url = fetcher.url(doc)
    try:
        body, new, _ = fetcher.document(url, validators.get(doc))
    except UpstreamError as exc:
        if exc.status == 404:  # no shards here: repodata.json
            return False
        raise
    listing.validators[doc] = new
    if body is None:
        listing.unchanged.add(f"{subdir}/")
        return True
    with body:
        index = _unpack(body, doc)
    info = index.get("info") if isinstance(index.get("info"), dict) else {}
    shards = index.get("shards")
    if not isinstance(shards, dict):
        raise UpstreamError(f"{doc}: shards is not a map")
    known = f"{subdir}/shards/"
    before = {key[len(known):] for key in validators if key.startswith(known)} if validators.get(doc) else None
    shards_base = info.get("shards_base_url")
    shards_url = urljoin(url, shards_base if isinstance(shards_base, str) and shards_base else "./shards/")
    if not shards_url.endswith("/"):
        shards_url += "/"
    prefix = _base(fetcher, url, subdir, info)
    wanted = []
    for name, digest in shards.items():
        digest = _hex(digest)
        if not isinstance(name, str) or not digest:
            raise UpstreamError(f"{doc}: malformed shard entry {str(name)[:80]!r}")
        if not filters.name_ok(name):
            continue  # never fetched: nothing of it may enter
        key = f"{subdir}/shards/{name}"
        listing.validators[key] = (digest, "")
        if (validators.get(key) or ("",))[0] == digest:
            listing.unchanged_names.add((subdir, name))  # same bytes as the last good run
        else:
            wanted.append((name, digest))

    def read(item):
        name, digest = item
        body, _, _ = fetcher.document(urljoin(shards_url, f"{digest}.msgpack.zst"))
        with body:
            if body.sha256() != digest:
                raise UpstreamError(f"{doc}: the shard of {name!r} does not match its sha256")
            shard = _unpack(body, f"{subdir} shard {name!r}")
        sections = [shard.get(section) or {} for section in ("packages", "packages.conda")]
        if not all(isinstance(part, dict) for part in sections) or any(
                isinstance(rec, dict) and rec.get("name") != name for part in sections for rec in part.values()):
            raise UpstreamError(f"{subdir} shard {name!r}: malformed")
        return name, shard

    from concurrent.futures import ThreadPoolExecutor

    if before is not None:  # what the last good run listed, less what is listed unchanged now
        listing.scan_names[f"{subdir}/"] = {name for name, _ in wanted} | (
            before - {name for sub, name in listing.unchanged_names if sub == subdir})
    # a first run reads every shard: a few at once (content-addressed, small documents)
    with ThreadPoolExecutor(max_workers=SHARD_FETCHES) as pool:
        for name, shard in pool.map(read, wanted):
            _add_records(listing, filters, records, subdir, f"{subdir} shard {name!r}", shard, prefix)
    return True


def _add_records(listing, filters, rules, subdir, what, repodata, prefix) -> None:
    """The wanted files of one repodata document or shard (``rules``: the conda type's
    :class:`~anarepo.plugins.UpstreamRecords`, which says which records may be listed)."""
    records = {}
    for section in ("packages", "packages.conda"):
        part = repodata.get(section, {})
        if not isinstance(part, dict):
            raise UpstreamError(f"{what}: {section} is not an object")
        records.update(part)
    removed = repodata.get("removed", [])
    if not isinstance(removed, list):
        raise UpstreamError(f"{what}: removed is not a list")
    removed = {fn for fn in removed if isinstance(fn, str)}
    listing.removed.update(f"{subdir}/{fn}" for fn in removed)
    candidates = {}
    for fn, rec in records.items():
        if (not isinstance(fn, str) or "/" in fn or not isinstance(rec, dict)
                or not all(isinstance(rec.get(k), str) for k in ("name", "version", "build"))):
            raise UpstreamError(f"{what}: malformed record {str(fn)[:80]!r}")
        if fn in removed or not filters.conda_ok(subdir, rec):
            continue
        sha = _hex(rec.get("sha256"))
        size = rec.get("size")
        if not sha or not isinstance(size, int) or size < 0:
            continue  # nothing to verify the file against: never fetched
        rec = {**rec, "sha256": sha, **({"md5": _hex(rec["md5"], 32)} if "md5" in rec else {})}
        if not rules.record_ok(rec, subdir, fn):
            continue  # served as our record (patches, proxy listings): an upload's rules first
        candidates[fn] = (rec, sha, size)
    by_name: dict[str, set] = {}
    for fn, (rec, _, _) in candidates.items():
        by_name.setdefault(rec["name"], set()).add(rec["version"])
    kept = {name: filters.keep_latest(vs, conda_version_key) for name, vs in by_name.items()}
    for fn, (rec, sha, size) in candidates.items():
        if rec["version"] not in kept[rec["name"]]:
            continue
        file_url = prefix + quote(fn)
        patch = {k: rec[k] for k in PATCHABLE if k in rec}
        listing.wants[f"{subdir}/{fn}"] = Want(file_url, f"{subdir}/{fn}", sha, size, patch, None,
                                               rec["name"], rec["version"], rec)


# -- PyPI -----------------------------------------------------------------------------
class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            attrs = dict(attrs)
            if attrs.get("href"):
                self.links.append(attrs)


def _parse_page(body: bytes, content_type: str, page_url: str) -> list[dict]:
    """Files of a project page in PEP 691 shape: filename, url, hashes, size, yanked, upload-time."""
    if content_type.split(";")[0].strip() == PYPI_JSON:
        try:
            data = json.loads(body)
        except ValueError:
            raise UpstreamError(f"{page_url}: not JSON") from None
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
            raise UpstreamError(f"{page_url}: not a PEP 691 project page")
        return [dict(f, url=urljoin(page_url, f.get("url") or "")) for f in files
                if isinstance(f.get("filename"), str) and isinstance(f.get("url"), str)]
    parser = _Anchors()
    try:
        parser.feed(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise UpstreamError(f"{page_url}: the page is not UTF-8") from None
    files = []
    for attrs in parser.links:
        url, frag = urldefrag(urljoin(page_url, attrs["href"]))
        algo, _, digest = frag.partition("=")
        filename = unquote(url.rsplit("/", 1)[-1])  # PyPI writes a local version's "+" as "%2B"
        yanked = attrs.get("data-yanked")
        files.append({"filename": filename, "url": url, "hashes": {algo: digest} if algo else {},
                      "yanked": (yanked or True) if "data-yanked" in attrs else False,
                      "requires-python": attrs.get("data-requires-python")})
    return files


def pypi_version(filename: str) -> tuple[str, str] | None:
    """(normalized project, version) from a wheel or sdist filename."""
    from packaging.utils import (InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename,
                                 parse_wheel_filename)

    try:
        if filename.endswith(".whl"):
            name, version, *_ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return str(name), str(version)


def _upload_ms(value) -> int:
    from datetime import datetime

    if not isinstance(value, str):
        return 0
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return 0


def _yank_reason(yanked) -> str:
    """The upstream's reason under our own rule for one (the web form's and the API's);
    a reason beyond it is dropped, the file stays yanked."""
    from ..names import InvalidName, check_text
    from ..services.packages import MAX_REASON

    try:
        return check_text(yanked.strip(), "reason", MAX_REASON) if isinstance(yanked, str) else ""
    except InvalidName:
        return ""


def pypi_projects(fetcher, filters: Filters) -> list[str]:
    """The projects to read: the exact names of ``names``; globs need the index's root listing."""
    from packaging.utils import canonicalize_name

    exact = [canonicalize_name(n) for n in filters.names if not any(c in n for c in "*?[")]
    if len(exact) == len(filters.names) and exact:
        return sorted(set(exact))
    body, _, content_type = fetcher.document(fetcher.url("simple/"), accept=PYPI_ACCEPT)
    with body:
        body = body.read()
    if content_type.split(";")[0].strip() == PYPI_JSON:
        try:
            names = [p["name"] for p in json.loads(body)["projects"]]
        except (ValueError, KeyError, TypeError):
            raise UpstreamError("simple/: not a PEP 691 index") from None
    else:
        parser = _Anchors()
        parser.feed(body.decode("utf-8", "replace"))
        names = [a["href"].rstrip("/").rsplit("/", 1)[-1] for a in parser.links]
    return sorted({canonicalize_name(n) for n in names if isinstance(n, str) and filters.name_ok(canonicalize_name(n))})


def pypi_listing(fetcher, filters: Filters, validators: dict, projects=None) -> Listing:
    """Read the project pages of ``projects`` (default: every project the filters name)."""
    listing = Listing({}, set(), {}, set())
    for project in projects if projects is not None else pypi_projects(fetcher, filters):
        if not filters.name_ok(project):
            continue
        doc = f"simple/{project}/"
        page_url = fetcher.url(doc)
        body, new, content_type = fetcher.document(page_url, validators.get(doc), accept=PYPI_ACCEPT)
        listing.validators[doc] = new
        listing.read.add(f"{project}/")
        if body is None:
            listing.unchanged.add(f"{project}/")
            continue
        with body:
            files = _parse_page(body.read(), content_type, page_url)
        candidates = []
        for f in files:
            parsed = pypi_version(f["filename"])
            hashes = f.get("hashes")
            sha = _hex(hashes.get("sha256")) if isinstance(hashes, dict) else ""
            if parsed is None or parsed[0] != project or not sha:
                continue
            yanked = f.get("yanked")
            if not filters.pypi_ok(project, parsed[1], f["filename"], _upload_ms(f.get("upload-time")), bool(yanked)):
                continue
            size = f.get("size") if isinstance(f.get("size"), int) else None
            reason = _yank_reason(yanked) if yanked else None
            requires = f.get("requires-python") or f.get("data-requires-python")
            candidates.append((parsed[1], Want(f["url"], f["filename"], sha, size, yanked=reason, name=project,
                                               version=parsed[1],
                                               record={"requires_python": requires if isinstance(requires, str)
                                                       else None})))
        kept = filters.keep_latest({v for v, _ in candidates}, pypi_version_key)
        for version, want in candidates:
            if version in kept:
                listing.wants[f"{project}/{want.filename}"] = want
    return listing
