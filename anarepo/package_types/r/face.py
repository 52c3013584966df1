"""The CRAN-like face: ``/r/<owner>[/label/<label>]/src/contrib/(PACKAGES[.gz]|<file>)``.

Routes traverse transient resources (``/{owner}/{label}/{filename}``): the
index of a label carries its owner's ACL, an archive its package's ACL (as
conda's ``PackageFile`` does), so the views declare ``view`` and the policy and
the forbidden view decide (a file of a package one may not see is 404).
"""
from __future__ import annotations

import gzip

from pyramid.view import view_config

from ...plugins.api import (
    PUBLIC, P, Scope, cached_document, check_label, document_response, root_of, send_blob, visible_subset,
)
from .index import index_of

INDEX_FILES = ("PACKAGES", "PACKAGES.gz")


class RFace:
    """``/r``: children are owners."""

    #: traversal below names an owner (a miss answers "user ... not found")
    names_owners = True

    __name__ = ""
    __parent__ = None

    def __init__(self, request):
        self.root = root_of(request)

    def __getitem__(self, login: str):
        return RChannels(self.root[login])


class RChannels:
    """An owner's labels on the R face."""

    def __init__(self, owner):
        self.__parent__, self.__name__ = owner, owner.login
        self.owner = owner

    def __getitem__(self, label: str):
        return RChannel(self, self.owner, check_label(label))


class RChannel:
    """One label of an owner: its ``PACKAGES`` index and its archives."""

    def __init__(self, parent, owner, label: str):
        self.__parent__, self.__name__ = parent, label
        self.owner, self.label = owner, label

    @property
    def owner_login(self) -> str:
        return self.owner.login

    def __getitem__(self, filename: str):
        if filename in INDEX_FILES:
            return RIndex(self, filename)
        name, sep, rest = filename.partition("_")
        version = rest[: -len(".tar.gz")] if rest.endswith(".tar.gz") else None
        package = self.owner.packages.get(name.lower()) if sep and version else None
        release = package.releases.get(version) if package is not None else None
        dist = release.files.get(filename) if release is not None else None
        if dist is None or dist.type != "r" or self.label not in dist.labels:
            raise KeyError(filename)
        return RArchive(self, package, dist)


class RIndex:
    """``PACKAGES`` or ``PACKAGES.gz`` of a label (the owner's ACL)."""

    def __init__(self, channel, filename: str):
        self.__parent__, self.__name__ = channel, filename
        self.channel = channel


class RArchive:
    """A source archive; readable by whoever may read its package."""

    def __init__(self, channel, package, dist):
        self.__parent__, self.__name__ = channel, dist.basename
        self.package, self.dist = package, dist

    def __acl__(self):
        return self.package.__acl__()


def packages_response(request, owner, label: str, gzipped: bool):
    """``PACKAGES[.gz]``: the stanzas the requester may see (the skeleton's
    ``visible_subset``), rendered once per (revision, visibility) into the core's
    document cache, with the core's validators and 304."""
    index = index_of(owner)
    lab = index.labels.get(label) if index is not None else None
    visible, vis = visible_subset(request, owner, lab)
    etag, mtime = lab.validators(vis) if lab is not None else ("e-r", None)

    def build():
        if lab is None:
            return b""
        skip = lab.hidden(visible)
        return "\n".join(stanza for key, (stanza, _, _) in lab.entries.items() if key not in skip).encode("utf-8")

    def plain():
        return cached_document(request, ("r", "PACKAGES", etag), build)

    def compressed():
        return cached_document(request, ("r", "PACKAGES.gz", etag), lambda: gzip.compress(plain(), mtime=0))

    return document_response(
        request, compressed if gzipped else plain, etag=f"{etag}.gz" if gzipped else etag,
        content_type="application/gzip" if gzipped else "text/plain; charset=UTF-8", public=vis == PUBLIC,
        max_age=60, vary="Authorization", mtime=mtime)


@view_config(route_name="r.contrib", context=RIndex, permission=P.VIEW)
@view_config(route_name="r.label.contrib", context=RIndex, permission=P.VIEW)
def packages_index(context, request):
    channel = context.channel
    return packages_response(request, channel.owner, channel.label, context.__name__.endswith(".gz"))


@view_config(route_name="r.contrib", context=RArchive, permission=P.VIEW)
@view_config(route_name="r.label.contrib", context=RArchive, permission=P.VIEW)
def archive(context, request):
    return send_blob(request, context.dist, disposition="attachment")


def includeme(config):
    config.add_face("r", mount="r", error_format="text", title="CRAN-like repositories",
                    scopes={"repos": Scope(grants={"r": (P.VIEW,)})})
    config.add_route("r.contrib", "/r/{owner}/src/contrib/{filename}", factory=RFace,
                     traverse="/{owner}/main/{filename}")
    config.add_route("r.label.contrib", "/r/{owner}/label/{label}/src/contrib/{filename}", factory=RFace,
                     traverse="/{owner}/{label}/{filename}")
    config.scan(__name__)
