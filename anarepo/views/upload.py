"""Uploading from the browser (the "Upload" button in the top bar), for every type.

The form posts one file with the target owner, an optional type (auto-detect
by default), package name and version (needed for plain files), a label and
the access of a new package.  It goes through the same
:func:`anarepo.services.publishing.publish` as the API and twine, so the
permission (UPLOAD on the existing package, or on the owner for a new one) and
the type checks are identical; any error re-shows the form with the status the
API would answer, which aborts the transaction, and the spooled file is
removed: nothing is half-made.  Like the API's commit and the PyPI upload, it
waits for this process's other writers of the same package
(:func:`anarepo.http.retry.queue_writer`) once the file is read and inspected, so
uploads into one package do not conflict.  A refused permission is decided by the one
forbidden view's rule (:func:`anarepo.views.errors.refusal`); the form only
shows its answer.

WebOb parses the form (the file lands in a temporary file once) because the
CSRF token must be checked before we act; the file is then spooled into the
blob directory.  Browser uploads are small enough for that second copy.
"""
from __future__ import annotations

from dataclasses import replace

from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from ..db import root_factory
from ..errors import NotFound, PublishError
from ..inspection import inspect_bounded
from ..names import InvalidName, package_key
from ..plugins import InvalidPackage
from ..resources.packages import ACCESS_LEVELS
from ..http.retry import queue_writer
from ..security.checks import Refused
from ..security.permissions import P
from ..services import publishing
from ..storage import TooLarge, request_tmpdir, spool
from .account import account_factory
from .errors import refusal
from .orgs import acting_owner, controlled_owners

FIELDS = ("owner", "type", "name", "version", "label", "access")


def _values(request, **extra):
    types = request.registry.package_types.ordered()
    targets = controlled_owners(request, P.UPLOAD)
    acting = acting_owner(request)
    values = {
        "types": types,
        "targets": targets,
        "access_levels": ACCESS_LEVELS,
        "allow_private": request.registry.settings["anarepo.allow_private"],
        "form": {"owner": acting.login if acting in targets else request.identity.login,
                 "type": "", "label": "main", "access": "public"},
        "error": None,
        "max_size": request.registry.settings["anarepo.max_upload_size"],
    }
    values.update(extra)
    return values


def _filename(field) -> str:
    """The file's own name: browsers may send a path (old IE sends C:\\...)."""
    name = (getattr(field, "filename", "") or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        raise PublishError("choose a file to upload")
    return name


def _publish(request, form, field):
    registry = request.registry
    owner = root_factory(request).get_owner(form["owner"])
    if owner is None:
        raise NotFound(f"user {form['owner']!r} not found")
    if form["access"] not in ACCESS_LEVELS:
        raise PublishError("choose the access of the package")
    filename = _filename(field)
    type_name = form["type"] or None
    name, version = form["name"] or None, form["version"] or None
    spooled = spool(field.file, request_tmpdir(request), registry.settings["anarepo.max_upload_size"])
    try:
        if type_name is None and inspect_bounded(
                spooled.path, registry.package_types.detect, filename, spooled.path, registry=registry) is None:
            catch_all = registry.package_types.takes_undetected()
            if catch_all is None or not (name and version):
                choose = f"choose the type “{catch_all.title}” and " if catch_all is not None else ""
                raise InvalidPackage(
                    f"the type of {filename} could not be detected: {choose}give a package name and a version"
                )
            type_name = catch_all.name
        ptype = publishing.resolve_type(registry, filename, spooled.path, type_name)
        if ptype.needs_explicit_name and not (name and version):
            raise InvalidPackage(f"a {ptype.title.lower()} upload needs a package name and a version")
        # a type that numbers its versions (projects): the next one of the package the file names
        first = ptype.next_version(()) if not version else None
        info = publishing.inspect_upload(ptype, spooled.path, filename, name=name, version=first or version)
        # line up with this process's other writers of the package, as the API and twine do
        queue_writer(request, owner.login, package_key(info.name))
        if first is not None:
            package = owner.get_package(info.name)
            info = replace(info, version=ptype.next_version(package.releases.keys() if package is not None else ()))
        return publishing.publish(
            owner, spooled, ptype, info, labels=[form["label"]] if form["label"] else None,
            uploader=request.identity.login, access=form["access"], request=request,
        )
    except BaseException:
        spooled.discard()
        raise


@view_config(route_name="upload", renderer="upload.jinja2", permission=P.ACCOUNT)
def upload(request):
    if request.method != "POST":
        return _values(request)
    form = {key: request.POST.get(key, "").strip()[:300] for key in FIELDS}
    try:
        dist = _publish(request, form, request.POST.get("file"))
    except Refused as exc:  # the forbidden view's decision, shown in the form
        status, message = refusal(request, exc.refused)
        request.response.status = status
        return _values(request, form=form, error=message)
    except (InvalidName, InvalidPackage, PublishError, TooLarge) as exc:
        # the API's and twine's status for the same refusal (docs/security.md)
        request.response.status = 413 if isinstance(exc, TooLarge) else getattr(exc, "status", 400)
        return _values(request, form=form, error=str(exc))
    request.session.flash(f"Uploaded {dist.basename} to {dist.package.full_name} version {dist.version}.")
    return HTTPFound(location=request.resource_url(dist.package))


def includeme(config):
    config.add_route("upload", "/upload", factory=account_factory)
    config.scan(__name__)
