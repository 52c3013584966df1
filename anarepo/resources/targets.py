"""Upload targets: where a file is about to go, as a traversal context.

An upload names an owner and a package that may not exist yet.  The target is
the existing package (its ACL decides ``upload``) or a new name in the owner's
namespace (the owner's ACL decides: create in the namespace).  Everybody may
*see* a target, so a refused upload answers 403 whether or not a package the
requester may not see exists under that name: uploads never reveal it.

Upload routes traverse ``/+upload/{owner}/{package}`` from the Root: ``+upload``
can never be an owner's name (owner names start with a letter or digit).
"""
from __future__ import annotations

from pyramid.authorization import Allow, Everyone

from ..security.permissions import P

#: The Root's name for the namespace of upload targets.
UPLOADS = "+upload"


class UploadTarget:
    """``owner``/``name``, and the package already there (or None)."""

    def __init__(self, owner, name: str, package=None):
        self.__parent__ = owner
        self.__name__ = name
        self.owner = owner
        self.name = name
        self.package = package

    @classmethod
    def of(cls, owner, name: str) -> "UploadTarget":
        return cls(owner, name, owner.get_package(name))

    def __acl__(self):
        base = self.package.__acl__() if self.package is not None else self.owner.__acl__()
        return [(Allow, Everyone, P.VIEW), *base]


class UploadTargets:
    """``Root[UPLOADS]``: ``{owner}/{package}`` → :class:`UploadTarget`."""

    #: traversal below names an owner (a miss answers "user ... not found")
    names_owners = True

    __name__ = UPLOADS

    def __init__(self, root):
        self.__parent__ = root

    def __getitem__(self, login: str):
        return _OwnerTargets(self, self.__parent__[login])


class _OwnerTargets:
    """One owner's namespace seen as upload targets (a traversal step)."""

    def __init__(self, parent, owner):
        self.__parent__ = parent
        self.__name__ = owner.login
        self.owner = owner

    def __getitem__(self, name: str) -> UploadTarget:
        return UploadTarget.of(self.owner, name)
