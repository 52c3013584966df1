"""Uploads: ``POST /stage`` → form ``POST`` to ``post_url`` → ``POST /commit``.

* ``/stage`` checks everything that can be checked before the bytes arrive
  (:func:`anarepo.services.publishing.preflight`: names, permission, labels,
  type, existing file) and returns an absolute
  ``post_url`` (without any ``/t/<token>`` prefix), flat ``form_data`` and the
  one-time ``dist_id``.
* The form POST carries no credentials: the id in its URL authorizes it.  The
  file part streams from ``wsgi.input`` into a blob temp file while md5, sha256
  and the size are computed; ``Content-Length``, ``Content-MD5`` and the staged
  sha256 must all agree.  Errors are S3-style XML (``<Error><Code>``), success
  is 201.  pyramid_retry is told not to copy this body
  (:func:`anarepo.http.retry.retry_attempts`).
* ``/commit`` inspects the stored file once and publishes it atomically through
  :func:`anarepo.services.publishing.publish`; a refused file leaves nothing
  behind (the stage is dropped too).
"""
from __future__ import annotations

import base64
import json
import logging
import re
from dataclasses import replace
from xml.sax.saxutils import escape

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from ... import names
from ...services import staging
from ...db import open_root
from ...errors import Conflict, Forbidden, NotFound, PublishError
from ...names import InvalidName
from ...plugins import InvalidPackage
from ...resources.targets import UPLOADS, UploadTarget
from ...http.retry import S3_PATH, queue_writer
from ...security.permissions import P
from ...services import publishing
from ...storage import TooLarge, filesizeformat, request_tmpdir, spool
from .base import api_view, basename_of, json_body, public_url, require_user
from ...http.multipart import MultipartError, MultipartReader, boundary_of
from .serialize import dist_json

log = logging.getLogger(__name__)

SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")
DIGITS = re.compile(r"[0-9]{1,20}")  # ASCII only: str.isdigit() accepts '²', which int() refuses
MAX_ATTRS_BYTES = 256 * 1024


def resolve_type(request, name):
    if not isinstance(name, str) or not name:
        raise HTTPBadRequest("distribution_type is required")
    try:
        return request.registry.package_types.resolve(name)
    except KeyError:
        raise HTTPBadRequest(f"unknown distribution type {name!r}") from None


@api_view("api.stage", "POST", P.UPLOAD, context=UploadTarget)
def stage(request):
    m = request.matchdict
    user = require_user(request)
    basename = basename_of(request)
    owner = request.context.owner  # the UploadTarget: the policy checked upload on it
    body = json_body(request, required=True)
    ptype = resolve_type(request, body.get("distribution_type"))
    sha256 = body.get("sha256")
    if not isinstance(sha256, str) or not SHA256_RE.fullmatch(sha256):
        raise HTTPBadRequest("sha256 must be the file's sha256 as 64 hex digits")
    channels = body.get("channels") or []
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise HTTPBadRequest("channels must be a list of label names")
    attrs = body.get("attrs") or {}
    if not isinstance(attrs, dict):
        raise HTTPBadRequest("attrs must be an object")
    dependencies = body.get("dependencies")
    if len(json.dumps([attrs, dependencies], default=str)) > MAX_ATTRS_BYTES:
        raise HTTPBadRequest("attrs and dependencies are too large")
    description = names.check_text(body.get("description"), "description", names.MAX_DESCRIPTION)
    placement = publishing.preflight(owner, ptype, m["package"], m["version"], basename, channels, request=request)
    root = request.root
    staging.expire(root)
    raw, _stage = staging.create_stage(
        root, owner=owner.login, package=placement.package.name if placement.package else m["package"],
        version=m["version"], basename=basename, type_name=ptype.name, uploader=user.login,
        sha256=sha256.lower(), labels=placement.labels, attrs=attrs, dependencies=dependencies,
        description=description,
    )
    return {
        "post_url": public_url(request, S3_PATH + raw),
        "form_data": {"key": raw, "success_action_status": "201"},
        "dist_id": raw,
    }


def s3_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>'
    return Response(body=body.encode(), status=status, content_type="application/xml", charset="utf-8")


@view_config(route_name="api.s3upload", request_method="POST", permission=NO_PERMISSION_REQUIRED)
def s3_upload(request):
    raw = request.matchdict["key"]
    stage = staging.get_stage(request.root, raw)
    if stage is None:
        return s3_error(403, "AccessDenied", "unknown or expired upload id")
    if stage.uploaded:
        return s3_error(403, "AccessDenied", "this upload id has been used already")
    max_size = request.registry.settings["anarepo.max_upload_size"]
    fields, spooled = {}, None
    try:
        reader = MultipartReader(request.environ["wsgi.input"], boundary_of(request.environ.get("CONTENT_TYPE", "")),
                                 request.content_length)
        while (part := reader.next_part()) is not None:
            if part.name == "file":
                declared = fields.get("Content-Length")
                if declared is not None and (not DIGITS.fullmatch(declared) or int(declared) > max_size):
                    return s3_error(400, "EntityTooLarge", f"files are limited to {filesizeformat(max_size)}")
                spooled = spool(part, request_tmpdir(request), max_size)
                break
            fields[part.name] = part.read_all().decode("utf-8", "replace")
    except MultipartError as exc:
        return s3_error(400, "MalformedPOSTRequest", str(exc))
    except TooLarge as exc:
        return s3_error(400, "EntityTooLarge", str(exc))
    if spooled is None:
        return s3_error(400, "InvalidArgument", "the form has no file part")
    error = _check_upload(fields, spooled, stage, raw)
    if error is not None:
        spooled.discard()
        return error
    staging.attach_file(stage, spooled)
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Key>{escape(stage.basename)}</Key><ETag>"{spooled.md5}"</ETag></PostResponse>'
    return Response(body=body.encode(), status=201, content_type="application/xml", charset="utf-8")


def _check_upload(fields, spooled, stage, raw):
    if fields.get("key", raw) != raw:
        return s3_error(403, "AccessDenied", "the form key does not match the upload id")
    declared = fields.get("Content-Length")
    if declared is not None and int(declared) != spooled.size:
        return s3_error(400, "IncompleteBody", f"received {spooled.size} bytes, expected {declared}")
    content_md5 = fields.get("Content-MD5")
    if content_md5 is not None:
        try:
            expected = base64.b64decode(content_md5, validate=True).hex()
        except ValueError:
            return s3_error(400, "InvalidDigest", "Content-MD5 is not base64")
        if expected != spooled.md5:
            return s3_error(400, "InvalidDigest", "the file's MD5 does not match Content-MD5")
    if spooled.sha256 != stage.sha256:
        return s3_error(400, "InvalidDigest", "the file's sha256 does not match the one staged")
    return None


def _drop_stage_later(request, raw):
    """After the commit transaction aborted, forget the refused upload in a
    transaction of its own, so nothing of it remains."""
    registry = request.registry

    def drop(_request):
        try:
            with open_root(registry, "anarepo: drop refused upload") as root:
                stage = staging.get_stage(root, raw)
                if stage is not None:
                    staging.drop(root, stage)
        except Exception:  # the stage expires anyway
            log.exception("could not drop a refused staged upload")

    request.add_finished_callback(drop)


@api_view("api.commit", "POST", P.UPLOAD, context=UploadTarget)
def commit(request):
    m = request.matchdict
    user = require_user(request)
    basename = basename_of(request)
    body = json_body(request, required=True)
    raw = body.get("dist_id")
    root = request.root
    stage = staging.get_stage(root, raw)
    if stage is None:
        raise NotFound("unknown or expired upload id; stage the upload again")
    owner = request.context.owner  # the UploadTarget: the policy checked upload on it
    if not stage.matches(owner.login, m["package"], m["version"], basename):
        raise HTTPBadRequest("this upload id was staged for another file")
    if stage.uploader != user.login:
        raise Forbidden("this upload was staged by another user")
    if not stage.uploaded:
        raise HTTPBadRequest("the file has not been uploaded yet")
    ptype = resolve_type(request, stage.type)
    try:
        info = publishing.inspect_upload(ptype, stage.blob.committed(), basename, name=stage.package,
                                         version=stage.version, basename=basename)
    except (InvalidPackage, InvalidName):
        _drop_stage_later(request, raw)
        raise
    queue_writer(request, owner.login, names.package_key(stage.package))
    if staging.get_stage(root, raw) is None:  # committed (or dropped) meanwhile by a twin request
        return _committed_twin(request, owner, stage, basename)
    # the client's description and dependencies are shown when the file says none;
    # its attrs are kept apart (client_attrs) and never become index metadata
    info = replace(info, description=stage.description or info.description,
                   dependencies=stage.dependencies if info.dependencies is None else info.dependencies)
    try:
        dist = publishing.publish(owner, staging.staged_file(stage), ptype, info, labels=stage.labels,
                                  uploader=user.login, client_attrs=stage.attrs, request=request)
    except (InvalidName, PublishError):
        _drop_stage_later(request, raw)
        raise
    staging.mark_used(stage)
    data = dist_json(request, dist)
    data["url"] = f"{request.application_url}/{dist.package.full_name}"
    return data


def _committed_twin(request, owner, stage, basename):
    """The same upload id committed twice at once: the second answer is the
    first one's file when it is there with the staged content, else 409."""
    package = owner.get_package(stage.package)
    release = package.releases.get(stage.version) if package is not None else None
    dist = release.files.get(basename) if release is not None else None
    if dist is None or dist.sha256 != stage.sha256_received:
        raise Conflict("this upload id was committed or dropped by another request; stage the upload again")
    data = dist_json(request, dist)
    data["url"] = f"{request.application_url}/{dist.package.full_name}"
    return data


@api_view("api.upload_bad_path", "POST", P.VIEW)
def bad_upload_path(request):
    """A stage/commit path without its four parts: typically a basename with
    ``..`` that the client's URL normalization folded away."""
    raise HTTPBadRequest(
        "invalid upload path: expected /stage/OWNER/PACKAGE/VERSION/FILE"
        " (file names may not contain '..' or empty segments)"
    )


def includeme(config):
    config.add_route("api.stage", "/api/stage/{owner}/{package}/{version}/*basename",
                     traverse=f"/{UPLOADS}/{{owner}}/{{package}}")
    config.add_route("api.s3upload", S3_PATH + "{key}")
    config.add_route("api.commit", "/api/commit/{owner}/{package}/{version}/*basename",
                     traverse=f"/{UPLOADS}/{{owner}}/{{package}}")
    config.add_route("api.upload_bad_path", "/api/{step:stage|commit}*rest")
    config.scan(__name__)
