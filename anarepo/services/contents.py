"""Making packages and releases, and taking files out of the tree.

Publishing a file is :func:`anarepo.services.publishing.publish`; these are the
building blocks it and the package API use.  Callers check permissions first.
Each removal ends with :func:`anarepo.services.events.package_changed`, so type plugins
update the index records of that one package in the same transaction.  An
error raises before anything is visible; the transaction is aborted by the caller.
"""
from __future__ import annotations

import json

from .. import names
from ..clock import utcnow
from ..errors import Conflict, NameTaken, PublishError
from .events import package_changed
from ..resources.packages import ACCESS_LEVELS, PACKAGE_TEXT_FIELDS, Package, Release

#: Release attributes besides the description (bounded by names.MAX_DESCRIPTION):
#: the same budget as a staged upload's attrs and dependencies.
MAX_RELEASE_ATTRS = 256 * 1024

#: Package text fields longer than a summary, as PyPI carries them.
TEXT_LIMITS = {"description": names.MAX_DESCRIPTION, "license": names.MAX_LICENSE}


def apply_package_attrs(package: Package, attrs: dict | None) -> None:
    """Copy known text fields (``license`` may be anaconda-client's dict form; a
    list, as conda-forge's about.json gives ``home`` and ``dev_url``, gives its
    first string, as conda-index reads it)."""
    for key, value in (attrs or {}).items():
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str)), None)
        if key == "license" and isinstance(value, dict):
            for sub, field in (("name", "license"), ("url", "license_url"), ("family", "license_family")):
                if value.get(sub):
                    if field in names.LINK_FIELDS:
                        setattr(package, field, names.check_link(value[sub], field))
                    else:
                        setattr(package, field, names.check_text(value[sub], field,
                                                                 TEXT_LIMITS.get(field, names.MAX_SUMMARY)))
            continue
        if key in names.LINK_FIELDS and key in PACKAGE_TEXT_FIELDS:
            setattr(package, key, names.check_link(value, key))
        elif key in PACKAGE_TEXT_FIELDS and value is not None:
            limit = TEXT_LIMITS.get(key, names.MAX_SUMMARY)
            setattr(package, key, names.check_text(value if isinstance(value, str) else str(value), key, limit))


def create_package(owner, name: str, *, summary: str = "", access: str = "public", attrs=None,
                   registry=None, creator: str = "") -> Package:
    """A new empty package; ``creator`` (a login) keeps the rights that let them create it."""
    name = names.check_package_name(name)
    existing = owner.get_package(name)
    if existing is not None:
        raise NameTaken(f"package {owner.login}/{name} exists already", existing, owner, name)
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
    others = {k: v for k, v in kept.items() if k != "description"}
    if len(json.dumps(others, default=str)) > MAX_RELEASE_ATTRS:
        raise PublishError(f"release attributes other than the description exceed {MAX_RELEASE_ATTRS} bytes")
    release.attrs = kept


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
