"""The CRAN-like face: ``/r/<owner>[/label/<label>]/src/contrib/(PACKAGES[.gz]|<file>)``.

Routes traverse transient resources (``/{owner}/{label}/{filename}``): the
index of a label carries its owner's ACL, an archive its package's ACL (as
conda's ``PackageFile`` does), so the views declare ``view`` and the policy and
the forbidden view decide (a file of a package one may not see is 404).
"""
from __future__ import annotations

import gzip

from pyramid.response import Response
from pyramid.view import view_config

from ...plugins.api import P, Scope, check_label, root_of, send_blob
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


def render_packages(request, owner, label: str) -> bytes:
    index = index_of(owner)
    entries = index.labels.get(label) if index is not None else None
    stanzas = []
    for key, (stanza, _basename, _version) in (entries.items() if entries is not None else ()):
        package = owner.packages.get(key)
        if package is not None and request.has_permission(P.VIEW, package):
            stanzas.append(stanza)
    return "\n".join(stanzas).encode("utf-8")


@view_config(route_name="r.contrib", context=RIndex, permission=P.VIEW)
@view_config(route_name="r.label.contrib", context=RIndex, permission=P.VIEW)
def packages_index(context, request):
    channel = context.channel
    body = render_packages(request, channel.owner, channel.label)
    gzipped = context.__name__.endswith(".gz")
    if gzipped:
        body = gzip.compress(body, mtime=0)
    response = Response(body=body, content_type="application/gzip" if gzipped else "text/plain")
    response.md5_etag()
    response.conditional_response = True
    response.cache_control.max_age = 60
    return response


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
