"""Putting files into the tree and taking them out: the one path every face uses.

The API, the PyPI upload endpoint, web uploads and ``anarepo import`` all call
these functions inside their request (or script) transaction, after checking
permissions.  Each change ends with :func:`anarepo.events.package_changed`, so
type plugins update the index records of that one package in the same
transaction.  An error raises before anything is visible; the transaction is
aborted by the caller.
"""
from __future__ import annotations

from . import names
from .clock import utcnow
from .events import package_changed
from .resources.packages import ACCESS_LEVELS, PACKAGE_TEXT_FIELDS, Distribution, Package, Release

#: Types that may share one package (a conda and a PyPI build of the same project).
SHAREABLE_TYPES = {"conda", "pypi"}


class PublishError(ValueError):
    """A refused change; ``status`` is the HTTP status the faces answer with."""

    status = 400


class Conflict(PublishError):
    status = 409


class Locked(PublishError):
    status = 403


class NotFound(PublishError):
    status = 404


def apply_package_attrs(package: Package, attrs: dict | None) -> None:
    """Copy known text fields (``license`` may be anaconda-client's dict form)."""
    for key, value in (attrs or {}).items():
        if key == "license" and isinstance(value, dict):
            for sub, field in (("name", "license"), ("url", "license_url"), ("family", "license_family")):
                if value.get(sub):
                    check = names.check_link if field in names.LINK_FIELDS else names.check_text
                    setattr(package, field, check(value[sub], field))
            continue
        if key in names.LINK_FIELDS and key in PACKAGE_TEXT_FIELDS:
            setattr(package, key, names.check_link(value, key))
        elif key in PACKAGE_TEXT_FIELDS and value is not None:
            limit = names.MAX_DESCRIPTION if key == "description" else names.MAX_SUMMARY
            setattr(package, key, names.check_text(value if isinstance(value, str) else str(value), key, limit))


def create_package(owner, name: str, *, summary: str = "", access: str = "public", attrs=None,
                   registry=None, creator: str = "") -> Package:
    """A new empty package; ``creator`` (a login) keeps the rights that let them create it."""
    name = names.check_package_name(name)
    if owner.get_package(name) is not None:
        raise Conflict(f"package {owner.login}/{name} exists already")
    if registry is not None:
        registry.package_types.check_package_name(owner, name)
    if access not in ACCESS_LEVELS:
        raise PublishError(f"access must be one of {', '.join(ACCESS_LEVELS)}")
    package = Package(name, access=access)
    package.summary = names.check_text(summary, "summary")
    apply_package_attrs(package, attrs)
    owner.add_package(package)
    if creator:
        owner.share_created_package(package, creator)
    return package


def create_release(package: Package, version: str, attrs: dict | None = None) -> Release:
    version = names.check_version(version)
    if version in package.releases:
        raise Conflict(f"release {package.full_name}/{version} exists already")
    release = Release(version)
    set_release_attrs(release, attrs)
    package.add_release(release)
    return release


def set_release_attrs(release: Release, attrs: dict | None) -> None:
    attrs = dict(attrs or {})
    if isinstance(attrs.get("summary"), str):
        release.summary = names.check_text(attrs["summary"], "summary")
    if isinstance(attrs.get("home_page"), str):
        release.home_page = attrs["home_page"] = names.check_link(attrs["home_page"], "home page")
    if isinstance(attrs.get("description"), str):
        release.description = names.check_text(attrs["description"], "description", names.MAX_DESCRIPTION)
    kept = {k: v for k, v in attrs.items() if isinstance(k, str) and len(k) < 64}
    if len(repr(kept)) > 64_000:
        raise PublishError("release attributes are too large")
    release.attrs = kept


def check_type_compatible(package: Package, type_name: str) -> None:
    types = set(package.package_types)
    if types and type_name not in types and not (types | {type_name}) <= SHAREABLE_TYPES:
        existing = ", ".join(sorted(types))
        raise Conflict(
            f"you already have a {existing} package named {package.name!r};"
            f" use a different name for this {type_name}"
        )


def check_labels(owner, labels) -> tuple[str, ...]:
    labels = tuple(dict.fromkeys(names.check_label(label) for label in (labels or ()) if label)) or ("main",)
    for label in labels:
        existing = owner.labels.get(label)
        if existing is not None and existing.locked:
            raise Locked(f"label {label!r} is locked")
    return labels


def publish(
    registry,
    owner,
    package_name: str,
    version: str,
    basename: str,
    spooled,
    ptype,
    *,
    labels=None,
    uploader: str = "",
    description: str = "",
    attrs: dict | None = None,
    dependencies=None,
    summary: str | None = None,
    package_attrs: dict | None = None,
    release_attrs: dict | None = None,
    access: str = "public",
    create: bool = True,
    replace: bool = False,
    request=None,
) -> Distribution:
    """Add one spooled file as a Distribution of owner/package/version."""
    basename = names.check_basename(basename)
    labels = check_labels(owner, labels)
    package = owner.get_package(package_name)
    if package is None:
        if not create:
            raise NotFound(f"package {owner.login}/{package_name} does not exist")
        package = create_package(owner, package_name, summary=summary or "", access=access, attrs=package_attrs,
                                 registry=registry, creator=uploader)
    elif ptype.name not in package.package_types:
        registry.package_types.check_package_name(owner, package.name, types=(ptype.name,))
    check_type_compatible(package, ptype.name)
    release = package.releases.get(version)
    if release is None:
        release = create_release(package, version, release_attrs)
    existing = release.files.get(basename)
    if existing is not None:
        if not replace:
            raise Conflict(f"file {basename} already exists for package {package.name} version {version}")
        release.remove_file(basename)
    dist = Distribution(basename, ptype.name)
    dist.size, dist.md5, dist.sha256 = spooled.size, spooled.md5, spooled.sha256
    if getattr(spooled, "blob", None) is not None:
        dist.blob = spooled.blob  # a committed staged upload: reuse its blob, no copy
    else:
        dist.blob.consumeFile(spooled.path)
    dist.attrs = dict(attrs or {})
    dist.dependencies = dependencies
    dist.description = names.check_text(description, "description", names.MAX_DESCRIPTION)
    dist.uploader = uploader
    dist.upload_time = utcnow()
    dist.set_labels(labels)
    release.add_file(dist)
    for label in labels:
        owner.ensure_label(label)
    package.add_type(ptype.name)
    package.modified = utcnow()
    package_changed(registry, package, request, added=dist if existing is None else None)
    return dist


def remove_distribution(registry, dist, request=None) -> None:
    release = dist.release
    package = release.package
    release.remove_file(dist.basename)
    package.refresh_types()
    package.modified = utcnow()
    package_changed(registry, package, request)


def remove_release(registry, release, request=None) -> None:
    package = release.package
    package.remove_release(release.version)
    package.refresh_types()
    package_changed(registry, package, request)


def remove_package(registry, package, request=None) -> None:
    owner = package.owner
    owner.remove_package(package.name)
    package_changed(registry, package, request, removed=True, previous_owner=owner)
