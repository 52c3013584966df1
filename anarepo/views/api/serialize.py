"""JSON shapes the anaconda CLI reads (reference §7).

Only plain data leaves here (no persistent objects, no generators): the
connection closes before the body is written.
"""
from __future__ import annotations

from ...clock import isoformat
from ...plugins import CLIENT_TYPE_NAMES
from ...security.permissions import P
from ...security.policy import reads_only_some_types
from ...versions import ordered


def user_json(owner) -> dict:
    return {
        "login": owner.login,
        "name": owner.name or owner.login,
        "user_type": "org" if owner.kind == "org" else "user",
        "created_at": isoformat(owner.created),
        "company": owner.company,
        "location": owner.location,
        "url": owner.url,
        "description": owner.description,
    }


def client_types(package) -> list[str]:
    """Type names the client's enum knows (others would crash ``show`` and ``upload``)."""
    return [t for t in package.package_types if t in CLIENT_TYPE_NAMES]


def _types_of(registry, package):
    types = registry.package_types
    return [types[name] for name in package.package_types if name in types]


def platforms(registry, package) -> list[str]:
    """The platforms of the package's files, as their types read them (conda subdirs):
    the API's ``conda_platforms``."""
    return sorted(set().union(*(t.platforms(package) for t in _types_of(registry, package))))


def builds(registry, package) -> list[str]:
    """The build strings of the latest version's files (``py_0``, ``h1_0``), as their
    types read them: the Builds column of ``anaconda search``, beside its Version column."""
    release = package.releases.get(package.latest_version) if package.latest_version else None
    if release is None:
        return []
    return sorted(set().union(*(t.builds(release) for t in _types_of(registry, package))) - {None, ""})


def readable_files(request, package) -> list:
    """The package's files, less those a typed token (a scope with ``reads_types``) may not read."""
    dists = list(package.distributions())
    if reads_only_some_types(request):
        dists = [d for d in dists if request.has_permission(P.VIEW, d)]
    return dists


def _urls(request, package) -> dict:
    app = request.application_url
    return {
        "url": f"{app}/api/package/{package.full_name}",
        "html_url": f"{app}/{package.full_name}",
    }


def package_summary(request, package) -> dict:
    """The short form used by lists (``GET /packages/o``, ``GET /search``)."""
    versions = ordered(package.releases.keys(), package.version_scheme)
    return {
        "name": package.name,
        "full_name": package.full_name,
        "owner": package.owner.login,
        "summary": package.summary,
        "public": package.access == "public",
        "access": package.access,
        "published": package.access == "public",
        "latest_version": package.latest_version,
        "versions": versions,
        "package_types": client_types(package),
        "conda_platforms": platforms(request.registry, package),
        "builds": builds(request.registry, package),
        "license": package.license,
        "created_at": isoformat(package.created),
        "modified_at": isoformat(package.modified),
        "file_count": package.file_count(),
        **_urls(request, package),
    }


def package_json(request, package) -> dict:
    """The full package object (``GET /package/o/p``): summary, releases and files."""
    data = package_summary(request, package)
    data.update(
        owner={"login": package.owner.login, "user_type": "org" if package.owner.kind == "org" else "user"},
        description=package.description,
        home=package.home,
        dev_url=package.dev_url,
        doc_url=package.doc_url,
        source_git_url=package.source_git_url,
        license_url=package.license_url,
        license_family=package.license_family,
        releases=[
            {"version": r.version, "distributions": sorted(r.files.keys())} for r in package.releases.values()
        ],
        files=[dist_json(request, d) for d in readable_files(request, package)],
        collaborators=len(package.collaborators),
    )
    return data


def release_json(request, release) -> dict:
    package = release.package
    public_attrs = {
        "summary": release.summary,
        "description": release.description,
        "home_page": release.home_page,
    }
    return {
        "full_name": f"{package.full_name}/{release.version}",
        "owner": package.owner.login,
        "package": package.name,
        "version": release.version,
        "summary": release.summary,
        "description": release.description,
        "home_page": release.home_page,
        "public_attrs": public_attrs,
        "attrs": dict(release.attrs or {}),
        "created_at": isoformat(release.created),
        "distributions": [dist_json(request, d) for d in release.files.values()],
    }


def dist_json(request, dist) -> dict:
    package = dist.package
    app = request.application_url
    return {
        "basename": dist.basename,
        "full_name": dist.full_name,
        "owner": package.owner.login,
        "package": package.name,
        "version": dist.version,
        "type": dist.type,
        "distribution_type": dist.type,
        "description": dist.description or None,
        # what the client said about the file, overridden by what the file says
        "attrs": {**(dist.client_attrs or {}), **(dist.attrs or {})},
        "dependencies": dist.dependencies,
        "labels": list(dist.labels),
        "size": dist.size,
        "md5": dist.md5,
        "sha256": dist.sha256,
        "upload_time": isoformat(dist.upload_time),
        "uploader": dist.uploader,
        "ndownloads": dist.downloads(),
        "yanked": dist.yanked is not None,
        "download_url": f"{app}/api/download/{dist.full_name}",
    }


def token_json(token) -> dict:
    return {
        "id": token.id,
        "application": token.name,
        "name": token.name,
        "org": token.org,
        "user": token.user,
        "remote_addr": token.remote_addr,
        "hostname": token.hostname,
        "note_url": token.note_url,
        "strength": token.strength,
        "created_at": isoformat(token.created),
        "expires": isoformat(token.expires),
        "scopes": list(token.scopes),
    }
