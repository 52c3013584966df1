"""The public facade for plugins: everything a package-type or face plugin may use
of the core, and nothing else (``docs/plugins.md``).

Plugins (the built-in ones under ``anarepo.package_types`` included) import from
this module only; an import-linter contract run by the test suite
(``tests/unit/test_import_contracts.py``) keeps it so, and keeps the core from
importing any plugin.  What is here is a promise: names are added when a plugin
needs them, and changed only with a note in ``docs/plugins.md``.

Grouped by what a plugin does:

* **declare** a type or a face: :class:`PackageType`, :class:`FileInfo`,
  :class:`InvalidPackage`, :class:`Scope`, :data:`ANY`, :class:`P`;
* **permissions** beyond a view's own ``permission=``: :func:`authorize` (a
  second object the view acts on) raising :class:`Refused` into the one
  forbidden view; :func:`label_visible` (whether a label may be named to the requester);
* **read files safely**: :func:`work_budget`, :class:`BudgetExceeded`,
  :func:`inspection_pool`, :func:`loads_json`, :func:`load_yaml`, :class:`Unbounded`;
* **reach the database**: :func:`root_of` (the Root during a request, before or
  after traversal), :func:`get_db`, :func:`open_root`;
* **names and versions**: :func:`package_key`, :func:`check_label`,
  :func:`check_text`, :class:`InvalidName`, :data:`PACKAGE_RE`,
  :data:`MAX_DESCRIPTION`, :data:`MAX_LICENSE`, :func:`check_link`,
  :data:`LINK_FIELDS`, :func:`version_key`, :func:`pep440_key`, :func:`utcnow`,
  :func:`isoformat_z`, and :mod:`clock` (the module, so tests can move time);
* **publish and change packages**: :mod:`publishing` (``inspect_upload``,
  ``publish``, ``resolve_type``), :func:`package_changed`, :func:`set_yanked`,
  :data:`MAX_REASON`, :func:`queue_writer`, the domain errors (:class:`PublishError`,
  :class:`Conflict`, :class:`NameTaken`, :class:`FileExists`, :class:`NotFound`), :func:`reindex`;
* **take uploads**: :func:`spool`, :func:`spool_file`, :func:`request_tmpdir`,
  :func:`blob_tmpdir`, :data:`CHUNK_SIZE`, :class:`TooLarge`, and the bounded
  streaming multipart reader (:class:`MultipartReader`, :func:`boundary_of`,
  :class:`MultipartError`, :data:`MAX_FIELD_BYTES`);
* **answer**: :func:`send_blob` (a distribution's stored file with the core's
  one header policy, counted), :func:`file_response` (another committed blob,
  same policy), :func:`blob_response` (bare bytes of a blob), :func:`committed_file`,
  :func:`count_download` (conflict-free, off the request), :func:`media_type`,
  :func:`face_error` / :func:`text_error` / :func:`json_error` (errors in the
  face's format), :func:`web_page_url`;
* **cached documents**: :func:`cached_document` (a rendered document in the one
  document cache, keyed by revision and visibility), :func:`document_response`
  (an index document with the one header and 304 policy), :func:`not_modified`,
  :func:`mark_replayable` (a public document the replay front may answer again), :func:`body_iter`, :data:`ORIGINAL_PATH` and
  :data:`TOKEN_ENV` (the request's path before the token was cut out, and the
  path token, for faces that answer before traversal);
* **index skeleton**: :class:`IndexSkeleton` (revision, public revision,
  restricted set, :meth:`~IndexSkeleton.visible_subset` and validators of one
  index), :class:`IndexRoot` (an owner's index: package key → places),
  :class:`Revision`, :func:`visible_subset`, :func:`readable`,
  :func:`owner_indexes` (for evolve steps);
* **persistent state**: :func:`plugin_state` / :func:`drop_plugin_state` (the
  plugin's state of an owner, in ``Owner.indexes``), :func:`adopt_plugin_state`
  (for an evolve step moving older state there), :func:`dist_extra` /
  :func:`set_dist_extra` (what the plugin keeps about one file, in
  ``Distribution.extras``), :func:`adopt_dist_extra`, :func:`three_way_merge`, :func:`fresh_revision`,
  :func:`add_counts` (conflict resolution helpers), and the model classes a
  view may take as its context (:class:`Package`, :class:`Release`,
  :class:`Distribution`);
* **mirrors**: :class:`UpstreamRecords` (a type's ``upstream_records``: how mirrors
  and proxies check, place and complete its upstream records), :func:`root_projects`
  (the upstream projects an owner's PyPI proxies list on a label's root page);
* **commands**: :class:`CommandError` for ``PackageType.add_cli_commands``; for
  client commands (over HTTP), :mod:`client` (``api_for``, ``latest_files``,
  ``fetch``, ``add_common``) and :class:`ClientError`.
"""
from __future__ import annotations

from .. import clock
from ..http.bodies import blob_response, body_iter
from ..http.bounded import Unbounded, load_yaml, loads_json
from ..cli import CommandError
from ..client import commands as client
from ..client.api import ClientError
from ..clock import isoformat_z, utcnow
from ..db import get_db, open_root
from ..db import root_factory as root_of
from ..services.downloads import committed_file, count_download
from ..errors import Conflict, FileExists, NameTaken, NotFound, PublishError
from ..services.events import package_changed
from ..http.blobs import file_response, send_blob
from ..http.caching import cached_document, document_response, mark_replayable, not_modified
from ..inspection import inspection_pool
from ..http.mediatypes import media_type
from ..http.middleware import ORIGINAL_PATH, TOKEN_ENV, web_page_url
from ..names import (
    LINK_FIELDS, MAX_DESCRIPTION, MAX_LICENSE, PACKAGE_RE, InvalidName, check_label, check_link, check_text,
    package_key,
)
from ..services.reindex import reindex
from ..resources.merge import add_counts, fresh_revision, three_way_merge
from ..resources.indexes import (
    PUBLIC, IndexRoot, IndexSkeleton, Revision, owner_indexes, readable, visible_subset,
)
from ..resources.owners import adopt_plugin_state, drop_plugin_state, plugin_state
from ..resources.packages import Distribution, Package, Release, adopt_dist_extra, dist_extra, set_dist_extra
from ..http.retry import queue_writer
from ..security.checks import Refused, authorize
from ..security.permissions import P
from ..services import publishing
from ..services.packages import MAX_REASON, set_yanked
from ..sources.proxy import root_projects
from ..storage import CHUNK_SIZE, TooLarge, blob_tmpdir, request_tmpdir, spool, spool_file
from ..versions import pep440_key, version_key
from ..security.visibility import label_visible
from ..http.multipart import MAX_FIELD_BYTES, MultipartError, MultipartReader, boundary_of
from ..views.helpers import face_error, json_error, text_error
from . import BudgetExceeded, FileInfo, InvalidPackage, PackageType, UpstreamRecords, work_budget
from .faces import ANY, Scope

__all__ = [
    "add_counts", "adopt_dist_extra", "adopt_plugin_state", "ANY", "authorize", "blob_response", "blob_tmpdir",
    "body_iter", "boundary_of", "BudgetExceeded", "cached_document", "check_label", "check_link", "check_text",
    "CHUNK_SIZE", "client", "ClientError", "clock", "CommandError", "committed_file", "Conflict", "count_download",
    "dist_extra", "Distribution", "document_response", "drop_plugin_state", "face_error", "file_response",
    "FileExists", "FileInfo", "fresh_revision", "get_db", "IndexRoot", "IndexSkeleton", "inspection_pool",
    "InvalidName", "InvalidPackage", "isoformat_z", "json_error", "label_visible", "LINK_FIELDS", "load_yaml",
    "loads_json", "mark_replayable", "MAX_DESCRIPTION", "MAX_FIELD_BYTES", "MAX_LICENSE", "MAX_REASON", "media_type",
    "MultipartError", "MultipartReader", "NameTaken", "not_modified", "NotFound", "open_root", "ORIGINAL_PATH",
    "owner_indexes", "P", "Package", "package_changed", "package_key", "PACKAGE_RE", "PackageType", "pep440_key",
    "plugin_state", "PUBLIC", "PublishError", "publishing", "queue_writer", "readable", "Refused", "reindex",
    "Release", "request_tmpdir", "Revision", "root_of", "root_projects", "Scope", "send_blob", "set_dist_extra",
    "set_yanked", "spool", "spool_file", "text_error", "three_way_merge", "TOKEN_ENV", "TooLarge", "Unbounded",
    "UpstreamRecords",
    "utcnow", "version_key", "visible_subset", "web_page_url", "work_budget",
]
