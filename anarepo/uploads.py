"""From an uploaded file to a published Distribution: detect, inspect, check, publish.

The API's commit, web uploads, ``anarepo import`` and the test harness all go
through :func:`publish_upload`, so every face applies the same type checks.
"""
from __future__ import annotations

from .plugins import InvalidPackage
from .publish import publish


def resolve_type(registry, filename: str, path, type_name: str | None = None):
    types = registry.package_types
    if type_name:
        try:
            return types.resolve(type_name)
        except KeyError:
            raise InvalidPackage(f"unknown package type {type_name!r}") from None
    ptype = types.detect(filename, path)
    if ptype is None:
        raise InvalidPackage(
            f"{filename}: could not detect the package type; give it explicitly"
            " (for any file: --package-type file --package NAME --version VERSION)"
        )
    return ptype


def publish_upload(registry, owner, spooled, filename: str, *, type_name=None, name=None, version=None,
                   labels=None, uploader: str = "", access: str = "public", replace: bool = False,
                   description: str = "", request=None):
    """Inspect ``spooled`` as ``filename`` and publish it under ``owner``."""
    ptype = resolve_type(registry, filename, spooled.path, type_name)
    info = ptype.inspect(spooled.path, filename, name=name, version=version)
    package_name = name or info.name
    release_version = version or info.version
    ptype.check_placement(info, package_name, release_version, info.basename)
    return publish(
        registry, owner, package_name, release_version, info.basename, spooled, ptype,
        labels=labels, uploader=uploader, description=description or info.description,
        attrs=info.attrs, dependencies=info.dependencies, summary=info.summary,
        package_attrs={"license": info.license, "home": info.home, **info.package_attrs},
        release_attrs=info.release_attrs, access=access, replace=replace, request=request,
    )
