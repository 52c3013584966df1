"""The conda channel face: ``/conda/<owner>[/label/<label>]/<subdir>/<file>``.

A route ``/conda/*traverse`` whose factory returns a transient :class:`CondaFace`;
traversal continues over transient resources (channel → label → subdir →
package file or shard) built on the owner and its :mod:`.index` state.

Index documents are rendered from the kept per-package fragments into the
core's document cache (``cached_document``) keyed by (document, index object,
revision, visibility); the strong ETag is that key, shared by ``repodata.json`` and ``.zst`` of one
revision, so a conditional request is answered 304 before anything is
rendered.  Requesters see only packages they may read: public records for
everyone, restricted ones merged in after a permission check per package.
Shards are content-addressed and immutable; package files may be replaced
(``--force``) and are revalidated; indexes get a short max-age.
"""
from __future__ import annotations

import gzip
import re

from pyramid.authorization import Allow, Everyone
from pyramid.exceptions import ConfigurationError
from pyramid.httpexceptions import HTTPFound
from pyramid.response import Response
from pyramid.view import view_config

from ...plugins.api import (
    ANY, P, Scope, cached_document, document_response, label_visible, mark_replayable, root_of, send_blob,
    visible_subset, web_page_url,
)
from . import render
from .index import KEEP_SHARDS_SECONDS, get_channel, label_index, subdir_index
from .inspect import EXTENSIONS, KNOWN_SUBDIRS

SHARD_RE = re.compile(r"^([0-9a-f]{64})\.msgpack\.zst$")
IMMUTABLE = "max-age=31536000, immutable"


# -- transient resources ------------------------------------------------------------
class CondaFace:
    """``/conda``: owners below."""

    #: traversal below names an owner (a miss answers "user ... not found")
    names_owners = True

    __name__ = "conda"
    __acl__ = [(Allow, Everyone, P.VIEW)]

    def __init__(self, request):
        self.request = request
        self.root = self.__parent__ = root_of(request)

    def __getitem__(self, name):
        owner = self.root.get_owner(name)
        if owner is None:
            raise KeyError(name)
        return Channel(self, owner, "main", owner.login)


class Channel:
    """One owner's channel at one label; the owner exists publicly, so does its channel."""

    def __init__(self, parent, owner, label: str, name: str, explicit: bool = False):
        self.__parent__, self.__name__ = parent, name
        self.owner = owner
        self.owner_login = owner.login  # for organization-restricted tokens
        self.label = label
        self.explicit = explicit

    @property
    def index(self):
        return label_index(get_channel(self.owner), self.label)

    def __getitem__(self, name):
        if name == "label" and not self.explicit:
            return Labels(self)
        if name in KNOWN_SUBDIRS:
            return Subdir(self, name)
        raise KeyError(name)


class Labels:
    """``label/<name>``: only the labels the requester may see (:mod:`anarepo.security.visibility`);
    another one is missing (404), so its name is not revealed by an empty index."""

    __name__ = "label"

    def __init__(self, channel):
        self.__parent__ = channel
        self.owner = channel.owner
        self.request = channel.__parent__.request

    def __getitem__(self, name):
        label = name.lower()
        if label not in self.owner.labels or not (
                has_public_records(self.owner, label) or label_visible(self.request, self.owner, label)):
            raise KeyError(name)
        return Channel(self, self.owner, label, name, explicit=True)


def has_public_records(owner, label: str) -> bool:
    """A public conda package is on the label (everybody sees it; no walk of the owner's packages)."""
    lab = label_index(get_channel(owner), label)
    return lab is not None and any(name not in lab.restricted for name in lab.channeldata.keys())


class Subdir:
    def __init__(self, channel, name: str):
        self.__parent__, self.__name__ = channel, name
        self.channel = channel
        self.owner = channel.owner
        self.index = subdir_index(channel.index, name)

    def __getitem__(self, name):
        if name == "shards":
            return Shards(self)
        if name.endswith(EXTENSIONS) and self.index is not None:
            found = find_file(self, name)
            if found is not None:
                return found
        raise KeyError(name)


def find_file(subdir: Subdir, fn: str):
    stem = fn[: -len(".tar.bz2")] if fn.endswith(".tar.bz2") else fn[: -len(".conda")]
    parts = stem.rsplit("-", 2)
    if len(parts) != 3:
        return None
    bucket = subdir.index.buckets.get(parts[0])
    if bucket is None or fn not in bucket.locations:
        return None
    version, basename = bucket.locations[fn]
    package = subdir.owner.packages.get(bucket.package_key)
    release = package.releases.get(version) if package is not None else None
    dist = release.files.get(basename) if release is not None else None
    if dist is None:
        return None
    return PackageFile(subdir, fn, package, dist)


class PackageFile:
    """A package file; readable by whoever may read its package."""

    def __init__(self, parent, name, package, dist):
        self.__parent__, self.__name__ = parent, name
        self.package, self.dist = package, dist

    def __acl__(self):
        return self.package.__acl__()


class Shards:
    __name__ = "shards"

    def __init__(self, subdir):
        self.__parent__ = subdir
        self.subdir = subdir

    def __getitem__(self, name):
        m = SHARD_RE.fullmatch(name)
        index = self.subdir.index
        if m is None or index is None:
            raise KeyError(name)
        hexdigest = m.group(1)
        bucket_name = index.by_hash.get(hexdigest)
        bucket = index.buckets.get(bucket_name) if bucket_name is not None else None
        if bucket is None or hexdigest not in bucket.shards:
            raise KeyError(name)
        package = self.subdir.owner.packages.get(bucket.package_key)
        if package is None:
            raise KeyError(name)
        return Shard(self, name, package, bucket.shards[hexdigest])


class Shard:
    def __init__(self, parent, name, package, data: bytes):
        self.__parent__, self.__name__ = parent, name
        self.package, self.data = package, data

    def __acl__(self):
        return self.package.__acl__()


def face_factory(request):
    return CondaFace(request)


# -- HTTP caching ------------------------------------------------------------------------
#: Content codings offered for JSON documents, preferred first when the client's
#: q-values tie (conda's requests and rattler accept both).
ENCODINGS = ("zstd", "gzip")


def negotiate(request) -> str | None:
    """The content coding to send, or None for the identity."""
    if "Accept-Encoding" not in request.headers:
        return None
    offers = request.accept_encoding.acceptable_offers(list(ENCODINGS))
    return offers[0][0] if offers else None


def encoders(request, key, body_fn, zstd=None) -> dict:
    """Encoding → function giving the cached encoded body of a JSON document."""
    level = int(request.registry.settings.get("anarepo.conda.zstd_level", 3))
    return {
        "zstd": zstd or (lambda: cached_document(request, (key, "zstd"), lambda: render.compress(body_fn(), level))),
        "gzip": lambda: cached_document(request, (key, "gzip"),
                                        lambda: gzip.compress(body_fn(), compresslevel=6, mtime=0)),
    }


def index_response(request, etag, mtime, vis, body_fn, content_type, encoded=None):
    """An index document with validators and caching headers; ``encoded`` (see
    :func:`encoders`) sends it gzip- or zstd-encoded when the client asks, each
    coding with its own strong ETag."""
    encoding = negotiate(request) if encoded else None
    return document_response(
        request, encoded[encoding] if encoding else body_fn,
        etag=f"{etag}.{encoding}" if encoding else etag, content_type=content_type, public=vis == "p",
        max_age=int(request.registry.settings.get("anarepo.conda.max_age", 60)),
        vary="Authorization, Accept-Encoding" if encoded else "Authorization", mtime=mtime, encoding=encoding)


class SubdirDocs:
    """The documents of one (channel, label, subdir) for one requester."""

    def __init__(self, request, context: Subdir):
        self.request = request
        self.subdir = context.__name__
        self.index = context.index
        self.visible, self.vis = visible_subset(request, context.owner, self.index)
        if self.index is None:
            self.etag, self.mtime = f"e-{self.subdir}", None
        else:
            self.etag, self.mtime = self.index.validators(self.vis)

    def _skip(self):
        """Names of restricted packages this requester may not read."""
        return self.index.hidden(self.visible)

    def _filtered(self, tree):
        if self.index is None:
            return []
        skip = self._skip()
        if not skip:
            return tree.items()
        return ((name, value) for name, value in tree.items() if name not in skip)

    def repodata(self, current: bool = False) -> bytes:
        kind = "current" if current else "repodata"
        return cached_document(
            self.request, ("conda", kind, self.etag),
            lambda: render.repodata(self.subdir, (fr for _, fr in self._filtered(self.index.frags)) if self.index is not None else (), current),
        )

    def repodata_zst(self) -> bytes:
        level = int(self.request.registry.settings.get("anarepo.conda.zstd_level", 3))
        return cached_document(self.request, ("conda", "repodata.zst", self.etag),
                               lambda: render.compress(self.repodata(), level))

    def shard_index(self) -> bytes:
        def build():
            if self.index is None:
                return render.shard_index(self.subdir, [], 0)
            if self._skip():
                skip = self._skip()
                entries = [entry for name, entry in self.index.shard_entries.items() if name not in skip]
            else:
                entries = list(self.index.shard_entries.values())
            return render.shard_index(self.subdir, entries, self.mtime or 0)

        return cached_document(self.request, ("conda", "shards", self.etag), build)

    def respond(self, body_fn, content_type, encoded=None):
        return index_response(self.request, self.etag, self.mtime, self.vis, body_fn, content_type, encoded)


GET = ("GET", "HEAD")


def _current(docs):
    return lambda: docs.repodata(current=True)


#: The documents of a subdir: view name → (SubdirDocs method, content type,
#: the encoders of a JSON document or None).
SUBDIR_DOCUMENTS = {
    "repodata.json": (lambda docs: docs.repodata, "application/json",
                      lambda docs: encoders(docs.request, ("conda", "repodata", docs.etag), docs.repodata,
                                           docs.repodata_zst)),
    "repodata.json.zst": (lambda docs: docs.repodata_zst, "application/zstd", None),
    "current_repodata.json": (_current, "application/json",
                              lambda docs: encoders(docs.request, ("conda", "current", docs.etag), _current(docs))),
    "repodata_shards.msgpack.zst": (lambda docs: docs.shard_index, "application/zstd", None),
}


def subdir_document(context, request):
    docs = SubdirDocs(request, context)
    body_fn, content_type, encoded = SUBDIR_DOCUMENTS[request.view_name]
    return docs.respond(body_fn(docs), content_type, encoded(docs) if encoded else None)


@view_config(route_name="conda", context=Channel, request_method=GET, permission=P.VIEW)
def channel_in_a_browser(request):
    """``/conda/<owner>[/label/<l>]`` itself (conda only asks for files below it):
    a person who opens the channel URL gets the channel's web page."""
    context = request.context
    return HTTPFound(location=web_page_url(request, context.owner.login, context.label))


@view_config(route_name="conda", context=Channel, name="channeldata.json", request_method=GET, permission=P.VIEW)
def channeldata_json(context, request):
    lab = context.index
    visible, vis = visible_subset(request, context.owner, lab)
    if lab is None:
        etag, mtime = "e-channeldata", None
    else:
        etag, mtime = lab.validators(vis)

    def build():
        entries, subdirs = [], {"noarch"}
        if lab is not None:
            skip = lab.hidden(visible)
            for name, (fragment, subs) in lab.channeldata.items():
                if name not in skip:
                    entries.append(fragment)
                    subdirs.update(subs)
        return render.channeldata(subdirs, entries)

    def body():
        return cached_document(request, ("conda", "channeldata", etag), build)

    return index_response(request, etag, mtime, vis, body, "application/json",
                          encoders(request, ("conda", "channeldata", etag), body))


def immutable(package) -> str:
    """Cache-Control of content-addressed things; private ones stay out of shared caches."""
    return ("public, " if package.access == "public" else "private, ") + IMMUTABLE


@view_config(route_name="conda", context=Shard, request_method=GET, permission=P.VIEW)
def shard_view(context, request):
    response = Response(body=context.data, content_type="application/zstd", conditional_response=True)
    response.etag = context.__name__.split(".", 1)[0]
    response.cache_control = immutable(context.package)
    if context.package.access == "public":
        mark_replayable(request, context.data)
    return response


@view_config(route_name="conda", context=PackageFile, request_method=GET, permission=P.VIEW)
def package_file(context, request):
    """The core's one blob policy: revalidated (``--force`` may replace the bytes), counted."""
    return send_blob(request, context.dist)


def includeme(config):
    settings = config.registry.settings
    if int(settings.get("anarepo.conda.max_age", 60)) > KEEP_SHARDS_SECONDS:
        raise ConfigurationError(
            f"anarepo.conda.max_age may not exceed {KEEP_SHARDS_SECONDS} s: clients holding a shard index"
            " that long would ask for shards no longer kept")
    config.add_face(
        "conda", mount="conda", factory=face_factory, error_format="text", subdomain=True, title="conda channels",
        api_root_key="conda_url",
        scopes={
            "conda": Scope("Allow all operations on Conda repositories", {"conda": ANY, "api": (P.VIEW,)}),
            "conda:download": Scope("Allow private downloads from Conda repositories", {"conda": (P.VIEW,)},
                                    reads_types=("conda",)),
            "repos": Scope(grants={"conda": (P.VIEW,)}),
        },
    )
    for name in SUBDIR_DOCUMENTS:
        config.add_view(subdir_document, route_name="conda", context=Subdir, name=name, request_method=GET,
                        permission=P.VIEW)
    config.scan(__name__)

