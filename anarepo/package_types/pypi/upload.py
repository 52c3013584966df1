"""The legacy upload API (twine, uv publish, poetry, hatch) at ``/pypi/<owner>[/label/<l>]/``.

``POST`` ``multipart/form-data`` with ``:action=file_upload``, ``name``,
``version``, ``filetype``, digests and the ``content`` file part.  The body is
read part by part off the wire; the file part is spooled straight into the blob
temp dir (hashed on the way, never held in memory).  Credentials: HTTP Basic
``__token__`` / token (or any token the policy accepts) whose scopes allow
``upload`` on the PyPI face; permission ``upload`` on the existing package, or
on the owner for a new one (refused through the one forbidden view).

Answers twine relies on: 200 on success and for an identical re-upload (a
no-op), 409 for a different file under an existing name (``--skip-existing``
reads that as "already there"), 400 with a reason for bad input, 401 with
``WWW-Authenticate: Basic`` without (valid) credentials, 403 when the
requester may not upload there.  Never a redirect.  Every error aborts the
transaction and removes the spooled file, so a refused upload changes nothing.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import replace

from pyramid.httpexceptions import HTTPBadRequest, HTTPClientError
from pyramid.response import Response
from pyramid.security import Denied
from pyramid.view import view_config

from ...plugins.api import (
    Conflict, FileExists, InvalidName, InvalidPackage, MAX_FIELD_BYTES, MultipartError, MultipartReader, P,
    PublishError, Refused, TooLarge, boundary_of, face_error, package_key, publishing, queue_writer,
    request_tmpdir, spool,
)
from .face import ROUTE, OwnerFace
from .inspect import MAX_METADATA_SIZE, normalize, same_version

MAX_FIELDS = 500
#: twine and uv send one part per metadata value: apache-airflow 2.x repeats
#: ``requires_dist`` over 700 times (PyPI takes it); the field-bytes cap bounds memory
MAX_UPLOAD_PARTS = 4096
#: Form fields longer than the 64 KiB of any other field: the long description
#: (twine and uv send it beside the file) is as large as the metadata it comes from.
FIELD_LIMITS = {"description": MAX_METADATA_SIZE}
#: All the small fields together: they repeat the metadata (twine sends the
#: description and every ``requires_dist``/``classifiers`` value beside the file).
MAX_FIELDS_BYTES = 2 * MAX_METADATA_SIZE
FILETYPES = {"bdist_wheel", "sdist"}


class _Hashing:
    """Feeds blake2b-256 while ``spool`` computes md5 and sha256."""

    def __init__(self, part):
        self.part = part
        self.blake2 = hashlib.blake2b(digest_size=32)

    def read(self, size=-1):
        data = self.part.read(size if size and size > 0 else 1 << 20)
        self.blake2.update(data)
        return data


def _digest_matches(given: str, hexdigest: str) -> bool:
    """Hex, or (for md5, as Warehouse documents it) urlsafe base64 with or without padding."""
    given = given.strip()
    if not given.isascii():  # compare_digest refuses non-ASCII str (TypeError)
        return False
    if hmac.compare_digest(given.lower(), hexdigest):
        return True
    try:
        raw = base64.urlsafe_b64decode(given + "=" * (-len(given) % 4))
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(raw.hex(), hexdigest)


def check_digests(fields: dict, md5: str, sha256: str, blake2: str) -> None:
    given = {k: fields.get(k, "").strip() for k in ("md5_digest", "sha256_digest", "blake2_256_digest")}
    if not any(given.values()):
        raise HTTPBadRequest("a digest is required: sha256_digest, blake2_256_digest or md5_digest")
    for field, actual in (("md5_digest", md5), ("sha256_digest", sha256), ("blake2_256_digest", blake2)):
        if given[field] and not _digest_matches(given[field], actual):
            raise HTTPBadRequest(
                f"the {field} supplied does not match the digest calculated from the uploaded file"
            )


def check_action(fields: dict) -> None:
    action = fields.get(":action")
    if action == "submit":
        raise HTTPBadRequest("registering is not needed: upload the files directly")
    if action != "file_upload":
        raise HTTPBadRequest(f"unsupported :action {action!r}; only file_upload is supported")
    if fields.get("protocol_version", "1") != "1":
        raise HTTPBadRequest("unsupported protocol_version; only 1 is supported")


def _authorize(request, ptype, owner, name: str):
    """Refuse before reading (or inspecting) a file the requester may not upload;
    the existing package for ``name``, or None."""
    package = ptype.find_package(owner, name)
    publishing.authorize(request, owner, package, name)
    return package


def read_form(request, on_file):
    """Walk the parts: small fields into a dict, the ``content`` part to ``on_file``."""
    stream = request.body_file_raw
    if request.is_body_seekable:  # pyramid_retry made a copy; a retried attempt starts over
        stream.seek(0)
    try:
        reader = MultipartReader(stream, boundary_of(request.headers.get("Content-Type", "")),
                                 request.content_length, max_parts=MAX_UPLOAD_PARTS)
        fields, result, total = {}, None, 0
        while True:
            part = reader.next_part()
            if part is None:
                break
            if len(fields) > MAX_FIELDS:
                raise HTTPBadRequest("too many form fields")
            if part.name == "content" and part.filename is not None:
                if result is not None:
                    raise HTTPBadRequest("more than one file in the upload")
                result = on_file(part, fields)
                if not part.finished:
                    raise HTTPBadRequest("the file part was not read to its end")
            else:
                raw = part.read_all(FIELD_LIMITS.get(part.name, MAX_FIELD_BYTES))
                total += len(raw)
                if total > MAX_FIELDS_BYTES:
                    raise HTTPBadRequest(f"the form fields exceed {MAX_FIELDS_BYTES} bytes in all")
                value = raw.decode("utf-8", "replace")
                fields.setdefault(part.name or "", value)
        return fields, result
    except MultipartError as exc:
        raise HTTPBadRequest(f"malformed upload: {exc}") from None


@view_config(route_name=ROUTE, context=OwnerFace, request_method="POST", permission=P.VIEW)
def upload(context, request):
    """``view`` on the index; ``upload`` on the target once its name is read (:func:`_authorize`)."""
    if request.identity is None:  # nobody may upload: refused before any of the body is read
        raise Refused(context, Denied("an upload needs credentials"))
    if not (request.content_type or "").startswith("multipart/form-data"):
        raise HTTPBadRequest("expected a multipart/form-data upload")
    owner = context.owner
    ptype = request.registry.package_types["pypi"]
    state = {"spooled": None}
    max_size = request.registry.settings["anarepo.max_upload_size"]

    def on_file(part, fields):
        if ":action" in fields:
            check_action(fields)
        if fields.get("name"):  # metadata before the file (twine, uv): refuse before reading it
            _authorize(request, ptype, owner, fields["name"])
            state["authorized"] = True
        hashing = _Hashing(part)
        state["spooled"] = spool(hashing, request_tmpdir(request), max_size)
        return (part.filename, hashing.blake2.hexdigest())

    try:
        fields, result = read_form(request, on_file)
        return _finish(request, ptype, owner, context, fields, result, state)
    except Refused:  # a refused permission: the forbidden view answers
        if state["spooled"] is not None:
            state["spooled"].discard()
        raise
    except REFUSALS as exc:
        if state["spooled"] is not None:
            state["spooled"].discard()
        return upload_error(request, exc)
    except BaseException:
        if state["spooled"] is not None:
            state["spooled"].discard()
        raise


REFUSALS = (HTTPClientError, InvalidPackage, InvalidName, PublishError, TooLarge)


def upload_error(request, exc) -> Response:
    """The face's text error for a refused upload (with the message as the reason phrase)."""
    if isinstance(exc, HTTPClientError):
        status, message = exc.code, exc.detail or exc.title
    elif isinstance(exc, PublishError):
        status, message = exc.status, str(exc)
    elif isinstance(exc, TooLarge):
        status, message = 413, str(exc)
    else:
        status, message = getattr(exc, "status", 400), str(exc)
    return face_error(request, status, str(message))


def _finish(request, ptype, owner, context, fields, result, state):
    check_action(fields)
    if result is None:
        raise HTTPBadRequest("the upload has no 'content' file part")
    filename, blake2 = result
    name, version = fields.get("name", "").strip(), fields.get("version", "").strip()
    if not name or not version:
        raise HTTPBadRequest("the upload needs the 'name' and 'version' fields")
    if not filename or "/" in filename or "\\" in filename:
        raise HTTPBadRequest(f"invalid file name {filename!r}")
    if not state.get("authorized"):  # refuse before inspecting a stranger's file
        _authorize(request, ptype, owner, name)
    spooled = state["spooled"]
    check_digests(fields, spooled.md5, spooled.sha256, blake2)
    info = publishing.inspect_upload(ptype, spooled.path, filename, basename=filename)
    if normalize(info.name) != normalize(name):
        raise InvalidPackage(f"{filename}: the form says project {name!r} but the file says {info.name!r}")
    if not same_version(info.version, version):
        raise InvalidPackage(f"{filename}: the form says version {version!r} but the file says {info.version!r}")
    filetype = fields.get("filetype")
    if filetype and filetype in FILETYPES and filetype != info.attrs["packagetype"]:
        raise InvalidPackage(f"{filename}: filetype {filetype!r} does not match the file")
    package = ptype.find_package(owner, info.name)
    queue_writer(request, owner.login, package_key(package.name if package is not None else info.name))
    # twine and uv address PEP 503 projects: the file goes to the package holding
    # its project (found again on the fresh snapshot the queue gave), whatever its spelling
    package = ptype.find_package(owner, info.name)
    if package is not None:
        info = replace(info, name=package.name)
    try:
        publishing.publish(owner, spooled, ptype, info, labels=[context.label], uploader=request.identity.login,
                           request=request)
    except FileExists as exc:
        if exc.existing.sha256 != spooled.sha256:
            raise Conflict(f"File already exists: {filename} (with different content)") from None
        spooled.discard()
        state["spooled"] = None
        return Response("OK: this file was uploaded before (identical)\n", content_type="text/plain")
    state["spooled"] = None
    return Response("OK\n", content_type="text/plain")
