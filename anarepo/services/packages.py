"""The life of a package after its first upload: access, collaborators, transfer,
copy and yank — one service for the web pages and the API.

Every function validates first and changes the tree only when the whole change
can be made, inside the caller's transaction, so a refused change leaves
everything as it was; each change ends with one index update
(:func:`anarepo.services.events.package_changed`).  Permission checks on the package
acted on are the caller's (views know the requester); a copy publishes through
:func:`anarepo.services.publishing.publish`, which checks the target.
"""
from __future__ import annotations

from . import labels as label_ops
from .. import names
from .accounts import find_user
from ..errors import Conflict, NameTaken, NotFound, PublishError
from .events import package_changed
from .notifications import notify
from ..plugins import FileInfo
from .staging import StagedFile
from . import publishing
from .publishing import check_access


# -- collaborators and access --------------------------------------------------
def add_collaborator(registry, root, package, login: str) -> None:
    user = find_user(root, login)
    if package.owner.kind == "user" and user.login == package.owner.login:
        raise PublishError(f"{user.login} owns {package.full_name} already")
    if user.login in package.collaborators:
        raise Conflict(f"{user.login} is already a collaborator on {package.full_name}")
    package.collaborators.add(user.login)
    notify(user, f"You are now a collaborator on {package.full_name}.", f"/{package.full_name}")
    package_changed(registry, package)


def remove_collaborator(registry, root, package, login: str) -> None:
    login = names.normalize_owner(login)
    if login not in package.collaborators:
        raise NotFound(f"{login} is not a collaborator on {package.full_name}")
    package.collaborators.remove(login)
    package_changed(registry, package)


def set_access(registry, package, access: str) -> None:
    """Public, authenticated or private; private needs the site to allow it."""
    if check_access(registry, access) != package.access:
        package.access = access
        package_changed(registry, package)


# -- transfer ---------------------------------------------------------------------
def transfer_package(registry, root, package, new_owner) -> None:
    """Move a package with its files, labels and index entries to another owner."""
    old_owner = package.owner
    if new_owner is None:
        raise NotFound("no such owner")
    if new_owner is old_owner:
        raise PublishError(f"{package.full_name} already belongs to {new_owner.login}")
    key = names.package_key(package.name)
    if key in new_owner.packages:
        raise NameTaken(f"{new_owner.login} already has a package named {package.name}",
                        new_owner.packages[key], new_owner, package.name)
    registry.package_types.check_package_name(new_owner, package.name)
    labels = {label for dist in package.distributions() for label in dist.labels}
    locked = [name for name in labels if getattr(new_owner.labels.get(name), "locked", False)]
    if locked:
        raise PublishError(f"label(s) {', '.join(sorted(locked))} of {new_owner.login} are locked")
    old_owner.packages.remove(key)
    if old_owner.kind == "org":
        for group in old_owner.groups.values():
            if key in group.packages:
                group.packages.remove(key)
    new_owner.packages.add(key, package)
    for name in labels:
        new_owner.ensure_label(name)
    package_changed(registry, package, previous_owner=old_owner)


# -- copy -----------------------------------------------------------------------------
COPY_MODES = ("refuse", "replace", "update")


def copy_files(package, release, dists, target, to_label: str, *, mode: str = "refuse", uploader: str,
               request=None, operator=None) -> list:
    """Publish ``dists`` of ``release`` under ``target`` (another owner), sharing
    their blobs.  A file already there is refused (``refuse``: 409), replaced
    (``replace``), or, when identical, kept and given ``to_label`` (``update``;
    a different one is replaced).  Upload rights on the target are checked by
    the publishing service, also when there is nothing to copy."""
    if mode not in COPY_MODES:
        raise ValueError(f"unknown copy mode {mode!r}")
    registry = request.registry if request is not None else operator
    existing_package = target.get_package(package.name)
    if request is not None:
        publishing.authorize(request, target, existing_package, package.name)
    target_release = existing_package.releases.get(release.version) if existing_package else None
    copied = []
    for dist in dists:
        existing = target_release.files.get(dist.basename) if target_release is not None else None
        if existing is not None:
            if mode == "refuse":
                raise Conflict(f"{existing.full_name} exists already")
            if mode == "update" and existing.sha256 == dist.sha256:
                label_ops.add_files(registry, target, to_label, [existing], request)
                copied.append(existing)
                continue
        if dist.upstream is not None:
            raise Conflict(f"{dist.full_name} is proxied and not fetched yet; download it once, then copy it")
        ptype = registry.package_types.get(dist.type)
        if ptype is None:
            raise PublishError(f"the package type {dist.type!r} is not installed")
        # the stored file as inspected when it was first published: the same metadata, the same blob
        info = FileInfo(
            name=package.name, version=release.version, basename=dist.basename, summary=package.summary,
            description=dist.description, attrs=dict(dist.attrs or {}), dependencies=dist.dependencies,
            package_attrs={k: getattr(package, k) for k in ("description", "license", "home", "dev_url", "doc_url")},
            release_attrs=dict(release.attrs or {}),
        )
        new = publishing.publish(
            target, StagedFile(dist.blob, dist.size, dist.md5, dist.sha256), ptype, info, labels=[to_label],
            uploader=uploader, access=package.access, replace=existing is not None,
            client_attrs=dist.client_attrs, request=request, operator=operator,
        )
        target_release = new.release
        copied.append(new)
    return copied


# -- yank -------------------------------------------------------------------------------
MAX_REASON = 1000  # characters of a yank reason


def yankable(registry, dist) -> bool:
    """Whether the file's type knows yanking (PEP 592: PyPI files)."""
    ptype = registry.package_types.get(dist.type)
    return bool(getattr(ptype, "yankable", False))


def set_yanked(registry, package, dists, reason: str | None, request=None) -> None:
    """Yank ``dists`` with ``reason`` ("" for none), or unyank them with None;
    the index follows in the same transaction."""
    for dist in dists:
        if not yankable(registry, dist):
            raise PublishError(f"{dist.basename} is not a PyPI file; only those can be yanked")
    for dist in dists:
        dist.yanked = reason
    package_changed(registry, package, request)

