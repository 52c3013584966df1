"""Publishing: the one path from an inspected file to a published Distribution.

Every upload goes through :func:`publish`: the API's commit, the PyPI legacy
upload (twine, uv), the browser's upload form, a copy to another owner,
``anarepo import`` and the test fixtures.  It decides, once and in this order:

1. the names (package, version, file, labels) are valid;
2. the requester may write there (:func:`authorize`): UPLOAD on the existing
   package, or on the owner for a new package; checked through the request's
   security policy, so token scopes and organization tokens apply, and refused
   through the one forbidden view, which answers 401 or 403 on every face;
3. the labels are not locked, no type refuses the package name (PyPI: one
   package per PEP 503 project), the file's type may join the package, the
   file is not there already (or is replaced, when asked);
4. package, release and Distribution are made and placed, and one
   :class:`~anarepo.services.events.FilePublished` event updates every index.

Metadata comes from the file: the Distribution's ``attrs`` (what the indexes
build repodata and simple-index records from) are the type's inspection result
and nothing else.  What a client says about its file (``anaconda upload``'s
attrs) is kept apart in ``client_attrs``, for display only.

:func:`preflight` runs steps 1–3 without a file, for the API's stage step.
:func:`batch` publishes many files in one transaction (mirror syncs, imports):
types whose index work is per package do it once per package, at its end.
Callers with no HTTP request (the CLI, imports, fixtures) act as the server's
operator and say so with ``operator=registry``: no permission is checked.
Nothing is changed before every check has passed.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace

from .. import names
from ..clock import utcnow
from ..errors import Conflict, FileExists, Locked, NameTaken, PublishError
from .events import BATCH_KEY, FilePublished, current_batch, notify
from ..inspection import inspect_bounded
from ..plugins import FileInfo, InvalidPackage
from .contents import create_package, create_release
from ..resources.packages import ACCESS_LEVELS, Distribution
from ..resources.targets import UploadTarget
from ..security import checks
from ..security.permissions import P


@dataclass(frozen=True)
class Placement:
    """Where a file goes, once every check has passed."""

    package: object | None  # the existing package, None when the upload creates it
    labels: tuple[str, ...]
    existing: object | None = None  # the Distribution a replacing upload removes


# -- from bytes to FileInfo -------------------------------------------------------
def resolve_type(registry, filename: str, path, type_name: str | None = None):
    """The named type, else the type detected from the file."""
    types = registry.package_types
    if type_name:
        try:
            return types.resolve(type_name)
        except KeyError:
            raise InvalidPackage(f"unknown package type {type_name!r}") from None
    ptype = inspect_bounded(path, types.detect, filename, path, registry=registry)
    if ptype is None:
        raise InvalidPackage(
            f"{filename}: could not detect the package type; give it explicitly"
            " (for any file: --package-type file --package NAME --version VERSION)"
        )
    return ptype


def inspect_upload(ptype, path, filename: str, *, name=None, version=None, basename=None,
                   registry=None) -> FileInfo:
    """Inspect the file once and check it belongs where the requester puts it.

    ``name``, ``version`` and ``basename`` are the requester's target (the API's
    URL, the web form); each defaults to what the file says.  The FileInfo
    returned names that target.
    """
    # in the bounded pool of ``registry`` (default: the current request's), under the work budget
    info = inspect_bounded(path, ptype.inspect, path, filename, name=name, version=version, registry=registry)
    target = (name or info.name, version or info.version, basename or info.basename)
    ptype.check_placement(info, *target)
    return replace(info, name=target[0], version=target[1], basename=target[2])


# -- the checks -----------------------------------------------------------------------
def check_access(registry, access: str) -> str:
    """Public, authenticated or private; the last two only where the site allows them."""
    if access not in ACCESS_LEVELS:
        raise PublishError(f"access must be one of {', '.join(ACCESS_LEVELS)}")
    if access != "public" and not registry.settings.get("anarepo.allow_private", True):
        raise PublishError("this site does not allow private packages")
    return access


def check_labels(owner, labels) -> tuple[str, ...]:
    """Valid, unlocked label names (``main`` when none)."""
    labels = tuple(dict.fromkeys(names.check_label(label) for label in (labels or ()) if label)) or ("main",)
    for label in labels:
        existing = owner.labels.get(label)
        if existing is not None and existing.locked:
            raise Locked(f"label {label!r} is locked")
    return labels


def check_type_compatible(registry, package, ptype) -> None:
    """A package holds one type's files, or those of types that share packages
    (``PackageType.shares_packages_with``: a conda and a PyPI build of one project)."""
    type_name = ptype.name
    types = set(package.package_types)
    known = registry.package_types
    if types and type_name not in types and not all(
            t in known and ptype.shares_packages(known[t]) for t in types):
        existing = ", ".join(sorted(types))
        raise Conflict(
            f"you already have a {existing} package named {package.name!r};"
            f" use a different name for this {type_name}"
        )


def authorize(request, owner, package, name: str) -> None:
    """May the requester upload ``name`` to ``owner``?  UPLOAD on the
    :class:`~anarepo.resources.targets.UploadTarget`: the existing package, else
    the owner (a new package in its namespace).

    A refusal raises into the one forbidden view (:mod:`anarepo.views.errors`),
    which answers 401 or 403 in the face's format; an upload target is visible
    to everybody, so the answer never tells whether a private package exists.
    """
    checks.authorize(request, P.UPLOAD, UploadTarget(owner, name, package))


@contextmanager
def names_seen_by(request):
    """Around creating, moving or publishing a package name for ``request``: a name
    held by a package the requester may not read (:class:`NameTaken`) is refused
    exactly as an upload it may not make (the forbidden view's 403 for an
    :class:`UploadTarget`), never with a 409 that names the hidden package.
    ``request`` None: the operator, who sees everything."""
    try:
        yield
    except NameTaken as exc:
        if request is not None and (exc.holder is None or not request.has_permission(P.VIEW, exc.holder)):
            checks.authorize(request, P.UPLOAD, UploadTarget(exc.owner, exc.name, exc.holder))
        raise


def _check_requester(request, operator) -> None:
    if (request is None) == (operator is None):
        raise TypeError("give either the request (permission checked) or operator=registry (no check)")


def preflight(owner, ptype, name: str, version: str, basename: str, labels=None, *, replace: bool = False,
              request=None, operator=None) -> Placement:
    """Every check of :func:`publish` that needs no file: names, permission,
    labels, type compatibility, an existing file.  Changes nothing."""
    _check_requester(request, operator)
    registry = request.registry if request is not None else operator
    names.check_basename(basename)
    names.check_version(version)
    package = owner.get_package(name)  # the package named (a face that addresses projects resolves first)
    if package is None:
        names.check_package_name(name)
    if request is not None:
        authorize(request, owner, package, name)
    labels = check_labels(owner, labels)
    existing = None
    with names_seen_by(request):
        if package is None:  # every type may refuse a name that collides in its own namespace
            registry.package_types.check_package_name(owner, name)
        elif ptype.name not in package.package_types:
            registry.package_types.check_package_name(owner, package.name, types=(ptype.name,))
    if package is not None:
        check_type_compatible(registry, package, ptype)
        release = package.releases.get(version)
        existing = release.files.get(basename) if release is not None else None
        if existing is not None:
            if not replace:
                raise FileExists(
                    f"file {basename} already exists for package {package.name} version {version}", existing)
            for label in existing.labels:
                if getattr(owner.labels.get(label), "locked", False):
                    raise Locked(f"label {label!r} is locked")
    return Placement(package, labels, existing)


# -- publishing ---------------------------------------------------------------------
def _package_attrs(info: FileInfo) -> dict:
    attrs = {k: v for k, v in (("license", info.license), ("home", info.home)) if v}
    attrs.update(info.package_attrs or {})
    return attrs


#: how sources name themselves as uploaders ("mirror:<source>", "proxy:<source>"); any
#: other uploader is a person or an operator of this site (see anarepo.sources.shadowing)
SOURCE_UPLOADERS = ("mirror:", "proxy:")


def publish(owner, stored, ptype, info: FileInfo, *, labels=None, uploader: str, access: str = "public",
            replace: bool = False, client_attrs: dict | None = None, request=None, operator=None) -> Distribution:
    """Publish ``stored`` (a spooled file or a committed blob with its hashes) as
    ``info.name``/``info.version``/``info.basename`` of ``owner``.

    ``access`` applies to a package this upload creates; ``replace`` replaces an
    existing file instead of refusing it (409); ``client_attrs`` is what the
    client said about the file (shown, never indexed).  Give ``request`` (its
    identity must hold UPLOAD) or ``operator=registry`` (CLI, imports, fixtures).
    """
    placement = preflight(owner, ptype, info.name, info.version, info.basename, labels, replace=replace,
                          request=request, operator=operator)
    registry = request.registry if request is not None else operator
    package = placement.package
    if package is None:  # preflight ran the types' name checks
        package = create_package(owner, info.name, summary=info.summary, access=check_access(registry, access),
                                 attrs=_package_attrs(info), creator=uploader)
    release = package.releases.get(info.version)
    if release is None:
        release = create_release(package, info.version, info.release_attrs or None)
    if placement.existing is not None:
        release.remove_file(info.basename)
    dist = Distribution(info.basename, ptype.name)
    dist.size, dist.md5, dist.sha256 = stored.size, stored.md5, stored.sha256
    if getattr(stored, "blob", None) is not None:
        dist.blob = stored.blob  # a committed blob (staged upload, copy): shared, no byte copy
    else:
        dist.blob.consumeFile(stored.path)
    dist.attrs = dict(info.attrs or {})
    if client_attrs:
        dist.client_attrs = dict(client_attrs)
    dist.dependencies = info.dependencies
    dist.description = names.check_text(info.description, "description", names.MAX_DESCRIPTION)
    dist.uploader = uploader
    dist.upload_time = utcnow()
    dist.set_labels(placement.labels)
    release.add_file(dist)
    for label in placement.labels:
        owner.ensure_label(label)
    package.add_type(ptype.name)
    if not uploader.startswith(SOURCE_UPLOADERS) and package.local_uploads is not True:
        package.local_uploads = True  # from now on sources never add files to it
    package.modified = utcnow()
    notify(registry, FilePublished(package, dist, info, request, replaced=placement.existing is not None))
    return dist


# -- many files in one transaction ----------------------------------------------------
class Batch:
    """Many changes written in one transaction (a mirror sync's or an import's
    batch of files).  A type may put work off until the batch ends
    (:meth:`~anarepo.plugins.PackageType.end_batch`): :meth:`defer` a package,
    read the :meth:`deferred` ones then."""

    def __init__(self, registry):
        self.registry = registry
        self._deferred: dict[str, dict[int, object]] = {}

    def defer(self, type_name: str, package) -> None:
        """Type ``type_name`` brings ``package`` up to date at the end of the batch."""
        self._deferred.setdefault(type_name, {})[id(package)] = package

    def deferred(self, type_name: str) -> list:
        """The packages type ``type_name`` deferred, each once; forgotten as read."""
        return list(self._deferred.pop(type_name, {}).values())


@contextmanager
def batch(registry, owner):
    """Publish many files of ``owner``'s database in the current transaction as
    one batch: every type's ``begin_batch`` runs first, its ``end_batch`` once at
    the end (before the caller commits).  Events fired meanwhile carry the batch
    (``event.batch``); a batch opened inside another is that batch."""
    open_batch = current_batch(owner)
    if open_batch is not None:
        yield open_batch
        return
    txn = owner._p_jar.transaction_manager.get()
    current = Batch(registry)
    txn.set_data(BATCH_KEY, current)
    try:
        types = list(registry.package_types.values())
        for ptype in types:
            ptype.begin_batch(current)
        yield current
        for ptype in types:
            ptype.end_batch(current)
    finally:
        txn.set_data(BATCH_KEY, None)
