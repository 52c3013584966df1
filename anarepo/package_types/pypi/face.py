"""The PyPI face: transient resources traversed under the route ``/pypi/*traverse``.

::

    /pypi/<owner>/                        OwnerFace (label main)   POST = upload
    /pypi/<owner>/label/<label>/          OwnerFace (that label)   POST = upload
        simple/                           SimpleRoot               project list
        simple/<project>/                 ProjectPage              one project
        files/<pkey>/<version>/<file>     FileResource             the file
        files/<pkey>/<version>/<file>.metadata                     its METADATA

Every face node has the Owner as ``__parent__``, so its ACL is the owner's and an
organization token's namespace check (``policy._inside``) sees the owner; a
file carries its package's ACL (as conda's ``PackageFile`` does), so reading
it is the policy's decision and a file of a package one may not see is 404.
Pages link relatively (``../../files/...``), so the ``/t/<token>/`` segment, in
either position, and the label survive in every link.
"""
from __future__ import annotations

from ...plugins.api import ANY, InvalidName, P, Scope, check_label, root_of, text_error

MOUNT = "pypi"
ROUTE = "pypi"


class PypiFace:
    """``/pypi``: children are owners."""

    #: traversal below names an owner (a miss answers "user ... not found")
    names_owners = True

    __name__ = ""
    __parent__ = None

    def __init__(self, request):
        self.request = request
        self.root = root_of(request)
        self.__parent__ = self.root

    def __getitem__(self, name: str):
        owner = self.root.get_owner(name)
        if owner is None:
            raise KeyError(name)
        return OwnerFace(owner, "main", explicit_label=False)


def face_factory(request):
    return PypiFace(request)


class _Node:
    def __init__(self, owner, label: str):
        self.owner = owner
        self.label = label
        self.__parent__ = owner

    @property
    def owner_login(self) -> str:
        return self.owner.login


class OwnerFace(_Node):
    """An owner's index in one label; the legacy upload endpoint."""

    def __init__(self, owner, label: str, explicit_label: bool = True):
        super().__init__(owner, label)
        self.explicit_label = explicit_label
        self.__name__ = label if explicit_label else owner.login

    def __getitem__(self, name: str):
        if name == "simple":
            return SimpleRoot(self.owner, self.label)
        if name == "files":
            return FilesRoot(self.owner, self.label)
        if name == "label" and not self.explicit_label:
            return LabelsNode(self.owner)
        raise KeyError(name)


class LabelsNode(_Node):
    __name__ = "label"

    def __init__(self, owner):
        super().__init__(owner, "main")

    def __getitem__(self, name: str):
        try:
            label = check_label(name)
        except InvalidName:
            raise KeyError(name) from None
        return OwnerFace(self.owner, label)


class SimpleRoot(_Node):
    __name__ = "simple"

    def __getitem__(self, name: str):
        return ProjectPage(self.owner, self.label, name)


class ProjectPage(_Node):
    def __init__(self, owner, label: str, segment: str):
        super().__init__(owner, label)
        self.segment = self.__name__ = segment

    def __getitem__(self, name):
        raise KeyError(name)


class FilesRoot(_Node):
    __name__ = "files"

    def __getitem__(self, pkey: str):
        return _FilesPath(self.owner, self.label, (pkey,))


class _FilesPath(_Node):
    """Collects ``<pkey>/<version>/<file>``; the third segment is the file."""

    def __init__(self, owner, label: str, parts: tuple):
        super().__init__(owner, label)
        self.parts = parts
        self.__name__ = parts[-1]

    def __getitem__(self, name: str):
        parts = self.parts + (name,)
        if len(parts) == 3:
            return FileResource.find(self.owner, self.label, *parts)
        return _FilesPath(self.owner, self.label, parts)


class FileResource(_Node):
    """A distribution (or its ``.metadata``) as seen through one label; its ACL is its package's."""

    def __init__(self, owner, label: str, package, dist, is_metadata: bool, filename: str):
        super().__init__(owner, label)
        self.package, self.dist, self.is_metadata = package, dist, is_metadata
        self.__name__ = filename

    @classmethod
    def find(cls, owner, label: str, pkey: str, version: str, filename: str) -> "FileResource":
        """The file ``pkey/version/filename`` (or its ``.metadata``) in ``label``; KeyError if absent."""
        package = owner.packages.get(pkey)
        release = package.releases.get(version) if package is not None else None
        if release is None:
            raise KeyError(filename)
        name, is_metadata = filename, False
        if filename.endswith(".metadata") and filename not in release.files:
            name, is_metadata = filename[: -len(".metadata")], True
        dist = release.files.get(name)
        if dist is None or dist.type != "pypi" or label not in dist.labels:
            raise KeyError(filename)
        return cls(owner, label, package, dist, is_metadata, filename)

    def __acl__(self):
        return self.package.__acl__()

    def __getitem__(self, name):
        raise KeyError(name)


def pypi_error(request, status: int, message: str):
    """Errors as text; twine prints ``<status> <reason>`` and nothing of the body (as
    on Warehouse), so the message is the reason phrase too; a 401 asks for Basic."""
    response = text_error(status, message)
    reason = " ".join(message.split()).encode("ascii", "replace").decode("ascii")[:300]
    response.status = f"{status} {reason}"
    if status == 401:
        response.www_authenticate = ("Basic", {"realm": "anarepo"})
    return response


def includeme(config):
    config.add_face(
        ROUTE, mount=MOUNT, factory=face_factory, error_format=pypi_error, subdomain=True, title="PyPI indexes",
        api_root_key="pypi_url",
        scopes={
            "pypi": Scope("Allow all operations on PyPI repositories", {MOUNT: ANY}),
            "pypi:download": Scope("Allow private downloads from PyPI repositories", {MOUNT: (P.VIEW,)},
                                   reads_types=("pypi",)),
            "pypi:upload": Scope("Allow uploads to PyPI repositories", {MOUNT: (P.VIEW, P.UPLOAD)}),
            # twine with an anaconda.org-style token uploads to PyPI indexes
            "api:write": Scope(grants={MOUNT: (P.VIEW, P.UPLOAD)}),
            "repos": Scope(grants={MOUNT: (P.VIEW,)}),
        },
    )
