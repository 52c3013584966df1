"""Package → Release → Distribution: the files people upload, with their metadata.

File bytes live in ZODB blobs; everything else is small, immutable-by-convention
attributes (dicts and tuples are replaced, never mutated in place).
"""
from __future__ import annotations

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from persistent.mapping import PersistentMapping
from ZODB.POSException import ConflictError
from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, Allow, Authenticated, Everyone
from ZODB.blob import Blob

from ..clock import utcnow
from ..names import RESERVED_VERSIONS
from ..security.permissions import COLLABORATOR_PERMS, SITE_ADMIN, P, user_principal
from ..versions import DEFAULT_SCHEME, latest, scheme_for, version_key
from .folder import Folder
from .merge import three_way_merge

ACCESS_LEVELS = ("public", "authenticated", "private")

#: Package-level metadata fields taken from uploads and the API.
PACKAGE_TEXT_FIELDS = (
    "summary",
    "description",
    "license",
    "license_url",
    "license_family",
    "home",
    "dev_url",
    "doc_url",
    "source_git_url",
)


def _merge_types(old, committed, new):
    """Only additions merge (the union, in the committed order); a side that
    dropped a type (its last file removed) conflicts."""
    old, committed, new = tuple(old or ()), tuple(committed or ()), tuple(new or ())
    if not (set(old) <= set(committed) and set(old) <= set(new)):
        raise ConflictError("package types removed on one side")
    return committed + tuple(t for t in new if t not in committed)


def _merge_latest(old, committed, new, scheme=DEFAULT_SCHEME):
    """Only additions merge (the later of the two, in the package's order); a side
    that lowered the latest version (a release removed) conflicts."""
    if old is not None and any(v is None or version_key(v, scheme) < version_key(old, scheme)
                               for v in (committed, new)):
        raise ConflictError("latest version lowered on one side")
    return latest((v for v in (committed, new) if v is not None), scheme)


def _merge_modified(old, committed, new):
    return max(v for v in (committed, new) if v is not None)


#: Package attributes that uploads change and that merge without losing a write.
_PACKAGE_MERGES = {
    "modified": _merge_modified,
    "package_types": _merge_types,
    "latest_version": _merge_latest,
}


class Package(Persistent):
    """A named package of an owner; may hold files of several types.

    Uploads of different files into one package touch only BTrees and
    ``Length`` counters below it, plus ``modified``, ``latest_version`` and
    ``package_types`` here, which :meth:`_p_resolveConflict` merges: two uploads
    into one package never conflict on the package object (issue 13).
    """

    summary = description = license = license_url = license_family = ""
    home = dev_url = doc_url = source_git_url = ""
    latest_version = None
    #: True once anyone but a mirror or proxy published into it (anarepo.sources.shadowing);
    #: None on packages from before the flag, which the guard reads file by file (a new
    #: package starts False: without it every mirror run read its packages' every file)
    local_uploads = None

    def __init__(self, name: str, access: str = "public"):
        if access not in ACCESS_LEVELS:
            raise ValueError(f"unknown access level {access!r}")
        self.__name__ = None
        self.__parent__ = None
        self.name = name
        self.access = access
        self.package_types = ()
        self.collaborators = OOTreeSet()
        self.releases = Folder(self)  # version -> Release
        self.created = self.modified = utcnow()
        self.file_count = Length()
        self.download_history = OOBTree()  # "YYYY-MM-DD" -> Length (anarepo.services.downloads)
        #: the order of its versions, from its types (``versions.scheme_for``)
        self.version_scheme = scheme_for(())
        self.local_uploads = False

    @property
    def owner(self):
        return self.__parent__

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    # -- traversal: /<owner>/<package>/<version> ----------------------------
    def __getitem__(self, version: str):
        if version.lower() in RESERVED_VERSIONS:
            raise KeyError(version)
        return self.releases[version]

    def __acl__(self):
        owner = self.owner
        acl = [(Allow, SITE_ADMIN, ALL_PERMISSIONS)]
        acl += [(Allow, p, ALL_PERMISSIONS) for p in owner.admin_principals()]
        acl += [(Allow, user_principal(c), COLLABORATOR_PERMS) for c in self.collaborators]
        acl += owner.package_aces(self)
        if self.access == "public":
            acl.append((Allow, Everyone, P.VIEW))
        elif self.access == "authenticated":
            acl.append((Allow, Authenticated, P.VIEW))
        acl.append(DENY_ALL)
        return acl

    # -- releases -------------------------------------------------------------
    def add_release(self, release: "Release") -> None:
        self.releases.add(release.version, release)
        self.refresh_latest()

    def remove_release(self, version: str) -> "Release":
        release = self.releases.remove(version)
        self.refresh_latest()
        return release

    def refresh_latest(self) -> None:
        self.version_scheme = scheme_for(self.package_types)
        self.latest_version = latest(self.releases.keys(), self.version_scheme)
        self.modified = utcnow()

    def add_type(self, type_name: str) -> None:
        if type_name not in self.package_types:
            self.package_types = self.package_types + (type_name,)
            self.refresh_latest()  # the order depends on the types (PEP 440 for PyPI alone)

    def refresh_types(self) -> None:
        """Recompute the type list from the files present (after removals)."""
        seen = []
        for release in self.releases.values():
            for dist in release.files.values():
                if dist.type not in seen:
                    seen.append(dist.type)
        if tuple(seen) != self.package_types:
            self.package_types = tuple(seen)
            self.refresh_latest()

    def distributions(self):
        for release in self.releases.values():
            yield from release.files.values()

    def _p_resolveConflict(self, old, committed, new):
        # the order of the merged type list, as refresh_latest would choose it: the
        # sides' schemes when they agree, else the default (their union is a mix);
        # read from the states, so a ZEO server with no type registered merges alike
        schemes = {state.get("version_scheme", DEFAULT_SCHEME) for state in (committed, new)}
        scheme = schemes.pop() if len(schemes) == 1 else DEFAULT_SCHEME
        merges = dict(_PACKAGE_MERGES, latest_version=lambda o, c, n: _merge_latest(o, c, n, scheme),
                      version_scheme=lambda o, c, n: scheme)
        return three_way_merge(old or {}, committed, new, merges)


class Release(Persistent):
    """One version of a package, holding its files by basename."""

    summary = description = home_page = ""
    attrs = {}

    def __init__(self, version: str):
        self.__name__ = version
        self.__parent__ = None
        self.version = version
        self.files = Folder(self)  # basename -> Distribution
        self.created = utcnow()

    @property
    def package(self):
        return self.__parent__

    def __getitem__(self, name):
        # file downloads are the ``download`` view with the basename as subpath
        raise KeyError(name)

    def add_file(self, dist: "Distribution") -> None:
        self.files.add(dist.basename, dist)
        self.package.file_count.change(1)

    def remove_file(self, basename: str) -> "Distribution":
        dist = self.files.remove(basename)
        self.package.file_count.change(-1)
        return dist


class Distribution(Persistent):
    """One uploaded file: its blob, hashes, type metadata and labels."""

    description = ""
    dependencies = None
    yanked = None  # None, or the reason (possibly "") the file was yanked
    upstream = None  # proxied and not fetched yet: (source name, URL) (anarepo.sources.proxy)
    uploader = ""
    client_attrs = {}  # what the uploading client said about the file: shown, never indexed

    def __init__(self, basename: str, type_name: str):
        self.__name__ = basename
        self.__parent__ = None
        self.basename = basename
        self.type = type_name
        self.blob = Blob()
        self.size = 0
        self.md5 = ""
        self.sha256 = ""
        self.attrs = {}
        self.labels = ("main",)
        self.upload_time = utcnow()
        self.downloads = Length()
        #: plugin name -> what that plugin keeps about this file (a wheel's METADATA,
        #: a notebook's rendered HTML): the one home of plugin data on a file
        #: (``dist_extra`` in :mod:`anarepo.plugins.api`)
        self.extras = PersistentMapping()

    @property
    def release(self):
        return self.__parent__

    @property
    def package(self):
        return self.__parent__.__parent__

    @property
    def version(self) -> str:
        return self.__parent__.version

    @property
    def full_name(self) -> str:
        return f"{self.package.full_name}/{self.version}/{self.basename}"

    def set_labels(self, labels) -> None:
        self.labels = tuple(sorted(set(labels)))


# -- plugin data on files ------------------------------------------------------------
def dist_extra(dist, name: str):
    """What plugin ``name`` keeps about ``dist`` (None when nothing)."""
    return dist.extras.get(name)


def set_dist_extra(dist, name: str, value) -> None:
    """Keep ``value`` for plugin ``name`` on ``dist``; None forgets it."""
    if value is None:
        dist.extras.pop(name, None)
    else:
        dist.extras[name] = value


def all_distributions(root):
    """Every Distribution of the database (evolve steps)."""
    for owner in root.owners.values():
        for package in owner.packages.values():
            yield from package.distributions()


def give_distributions_extras(root) -> None:
    """Evolve step (``core.distribution-extras-1``): files stored before
    ``Distribution.extras`` existed get it, empty; each plugin's own step then
    moves its data in (:func:`adopt_dist_extra`)."""
    for dist in all_distributions(root):
        dist._p_activate()
        if "extras" not in dist.__dict__:
            dist.extras = PersistentMapping()


def adopt_dist_extra(root, attribute: str, name: str) -> None:
    """For a plugin's evolve step: data it used to hang on files as ``attribute``
    moves, the same object, to ``dist.extras[name]``."""
    for dist in all_distributions(root):
        dist._p_activate()
        if attribute in dist.__dict__:
            value = dist.__dict__[attribute]
            delattr(dist, attribute)
            if value is not None:
                dist.extras[name] = value
