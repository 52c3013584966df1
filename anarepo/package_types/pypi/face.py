"""The PyPI face: transient resources traversed under the route ``/pypi/*traverse``.

::

    /pypi/<owner>/                        OwnerFace (label main)   POST = upload
    /pypi/<owner>/label/<label>/          OwnerFace (that label)   POST = upload
        simple/                           SimpleRoot               project list
        simple/<project>/                 ProjectPage              one project
        files/<pkey>/<version>/<file>     FileResource             the file
        files/<pkey>/<version>/<file>.metadata                     its METADATA

Every face node has the Owner as ``__parent__``, so its ACL is the owner's and an
organization token's namespace check (``policy._inside``) sees the owner.
Pages link relatively (``../../files/...``), so the ``/t/<token>/`` segment, in
either position, and the label survive in every link.
"""
from __future__ import annotations

from ...names import InvalidName, check_label
from ...security.policy import app_root

MOUNT = "pypi"
ROUTE = "pypi"


class PypiFace:
    """``/pypi``: children are owners."""

    __name__ = ""
    __parent__ = None

    def __init__(self, request):
        self.request = request
        self.root = app_root(request)
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
            return FileResource(self.owner, self.label, *parts)
        return _FilesPath(self.owner, self.label, parts)


class FileResource(_Node):
    """A distribution (or its ``.metadata``) as seen through one label."""

    def __init__(self, owner, label: str, pkey: str, version: str, filename: str):
        super().__init__(owner, label)
        self.pkey, self.version, self.filename = pkey, version, filename
        self.__name__ = filename

    def __getitem__(self, name):
        raise KeyError(name)

    def lookup(self):
        """(package, distribution, is_metadata) or None if absent from this label."""
        package = self.owner.packages.get(self.pkey)
        if package is None:
            return None
        release = package.releases.get(self.version)
        if release is None:
            return None
        filename, is_metadata = self.filename, False
        if filename.endswith(".metadata") and filename not in release.files:
            filename, is_metadata = filename[: -len(".metadata")], True
        dist = release.files.get(filename)
        if dist is None or dist.type != "pypi" or self.label not in dist.labels:
            return None
        return package, dist, is_metadata


def includeme(config):
    config.add_route(ROUTE, f"/{MOUNT}/*traverse", factory=face_factory)
