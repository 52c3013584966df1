"""The interface every package type implements, built-in or third-party."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..versions import DEFAULT_SCHEME


class InvalidPackage(ValueError):
    """The file is not a valid package of the type; the message is shown to the user."""


@dataclass
class FileInfo:
    """What a type reads from a file: enough to place it and describe it."""

    name: str
    version: str
    basename: str
    summary: str = ""
    description: str = ""
    license: str = ""
    home: str = ""
    platform: str | None = None  # conda subdir, wheel platform...
    attrs: dict = field(default_factory=dict)  # type metadata kept with the file
    dependencies: dict | None = None
    package_attrs: dict = field(default_factory=dict)  # dev_url, doc_url, license_url...
    release_attrs: dict = field(default_factory=dict)
    #: what inspection parsed that the type's index needs (e.g. a wheel's METADATA
    #: bytes), handed to ``package_changed`` through the FilePublished event so no
    #: index re-reads the blob; never stored by the core
    payload: dict = field(default_factory=dict)


class UpstreamRecords:
    """How mirrors and proxies (``anarepo.sources``) treat one type's upstream index
    records: which records may be listed at all (:meth:`record_ok`, the rules of an
    upload's own metadata), what a proxied Distribution carries before its bytes are
    fetched (:meth:`place`: it is served to clients as it is), and how it is completed
    from the bytes once they are (:meth:`fetched`).  A type without one
    (``PackageType.upstream_records = None``) is not an upstream kind."""

    #: the scopes a source of the type may read (conda: its subdirs), None: none
    scopes: frozenset | None = None

    def record_ok(self, record: dict, scope: str, filename: str) -> bool:
        """Whether an upstream record may be listed (a record an upload of the type
        would refuse is left out)."""
        return True

    def place(self, dist, want) -> None:
        """Fill a new proxied ``dist`` from the upstream's ``want`` (name, version,
        record, patch, yanked); raise a domain error when the record does not
        describe the file."""

    def fetched(self, dist, info) -> None:
        """The proxied ``dist``'s bytes arrived and were inspected (``info``): complete
        what the type keeps of them (upstream patches win over the file's fields)."""


class PackageType:
    """Base class: override what the type knows; the defaults are safe.

    * ``detect`` says whether a file is of this type (auto-detection on upload);
    * ``inspect`` reads its metadata without trusting it (raise InvalidPackage);
    * ``check_placement`` refuses a file whose metadata disagrees with the
      owner/package/version/basename it is uploaded to;
    * ``package_changed`` keeps the type's index state for one package current,
      inside the writing transaction (called after uploads, removals, label
      and access changes);
    * ``begin_batch``/``end_batch`` bracket a transaction publishing many files,
      so per-package index work runs once per package (``event.batch``);
    * ``install_hints`` gives the commands shown on package pages;
    * types that keep index state (``keeps_index``) let ``anarepo reindex``
      picture it (``index_snapshot``), drop it (``reset_index``) and read a
      file's metadata again (``reread``); the rebuild calls ``package_changed``.
    """

    name: str = ""
    title: str = ""
    aliases: tuple = ()
    detect_priority: int = 100
    #: asset spec of a template shown on package pages (sees ``package`` and ``section``)
    page_template: str | None = None
    #: asset spec of a template shown on the package's Files tab, below the
    #: toolbar (sees ``package``, ``releases`` and ``can_edit``)
    files_template: str | None = None
    #: whether uploads must name the package and version explicitly (no metadata)
    needs_explicit_name: bool = False
    #: whether the type takes a file no type detected, when the uploader names the
    #: package and version (the plain ``file`` type)
    takes_undetected: bool = False
    #: whether files of the type can be yanked (PEP 592)
    yankable: bool = False
    #: other types whose files may sit in one package with this type's (a conda
    #: and a PyPI build of one project); sharing needs both sides to agree
    shares_packages_with: frozenset = frozenset()
    #: the order of the type's versions (``"conda"``: conda's VersionOrder, or
    #: ``"pep440"``); a package's latest version follows the order its types agree
    #: on, conda's for a mix (``anarepo.versions.scheme_for``)
    version_scheme: str = DEFAULT_SCHEME
    #: whether ``anarepo upload DIR`` packs a directory as a file of this type
    #: (``pack_directory``; projects)
    packs_directories: bool = False
    #: whether ``package_changed`` keeps index state that ``anarepo reindex`` rebuilds
    keeps_index: bool = False
    #: mirrors and proxies of upstream indexes of this type (:class:`UpstreamRecords`)
    upstream_records: UpstreamRecords | None = None
    #: the plural people read in lists filtered to this type ("Projects")
    list_title: str = ""
    #: a page of its own listing the acting owner's packages of this type
    #: (``"projects"``: ``/projects``); the name is then a reserved owner name
    list_path: str | None = None

    def detect(self, filename: str, path) -> bool:
        return False

    def inspect(self, path, filename: str, name: str | None = None, version: str | None = None) -> FileInfo:
        raise InvalidPackage(f"{filename}: can not read {self.name} metadata")

    def check_placement(self, info: FileInfo, package_name: str, version: str, basename: str) -> None:
        if info.name.lower() != package_name.lower():
            raise InvalidPackage(
                f"the file's package name {info.name!r} does not match the package {package_name!r}"
            )
        if info.version != version:
            raise InvalidPackage(
                f"the file's version {info.version!r} does not match the release {version!r}"
            )
        if info.basename != basename:
            raise InvalidPackage(
                f"the file name {basename!r} does not match its metadata ({info.basename!r})"
            )

    def check_package_name(self, owner, name: str) -> None:
        """Refuse (raise a ``Conflict``) a package ``name`` of ``owner`` that would
        collide in this type's own namespace with another package of the owner;
        called when a package is created, moved to ``owner`` or gets this type."""

    def package_changed(self, event, registry) -> None:
        """Update this type's index records for ``event.package`` (see PackageChanged)."""

    def begin_batch(self, batch) -> None:
        """A transaction publishing many files begins (``publishing.batch``: mirror
        syncs, imports); ``package_changed`` then sees it as ``event.batch``."""

    def end_batch(self, batch) -> None:
        """The batch ends, before its transaction commits: do the work put off with
        ``batch.defer(self.name, package)`` for each of ``batch.deferred(self.name)``."""

    def install_hints(self, request, package, label: str = "main") -> list[tuple[str, str]]:
        """(title, command) pairs shown on the package page for ``label``; for a
        package that is not public, the commands with a ``<TOKEN>`` placeholder."""
        return []

    def next_version(self, versions) -> str | None:
        """The version an upload that names none gets, given the package's
        existing ``versions`` (projects are numbered revisions), or None when
        the file must say its version."""
        return None

    def shares_packages(self, other: "PackageType") -> bool:
        """Whether files of ``other`` may join a package holding files of this type."""
        return other.name in self.shares_packages_with and self.name in other.shares_packages_with

    def platforms(self, package) -> set[str]:
        """The platforms (conda subdirs) of the package's files of this type, for
        the API's ``conda_platforms`` and ``anaconda search --platform``."""
        return set()

    def builds(self, release) -> set[str]:
        """The build strings of the release's files of this type (the Builds
        column of ``anaconda search``)."""
        return set()

    def pack_directory(self, directory) -> tuple:
        """(path of a temporary file, its file name) packing ``directory`` (a
        ``pathlib.Path``) for upload; the caller removes the file."""
        raise NotImplementedError(f"the {self.name} type does not take directories")

    def add_cli_commands(self, subparsers, command) -> None:
        """Add operator commands to ``anarepo``: ``subparsers`` is argparse's;
        ``command(name)`` registers ``func(args, registry)``, run with the
        server's registry and database (see :mod:`anarepo.cli`).  A client
        command (talking to a server over HTTP) sets ``client_command=func(args)``
        as its parser's default instead, with the helpers of
        ``anarepo.plugins.api.client``."""

    def index_problems(self, root) -> list[str]:
        """Problems ``anarepo reindex`` reports (and ``--check`` fails on) that a
        rebuild can not fix (PyPI name collisions)."""
        return []

    def index_snapshot(self, owner):
        """A plain, comparable picture of this type's index state for ``owner``
        (revisions and caches aside); empty when there is none."""
        return {}

    def reset_index(self, owner) -> None:
        """Drop this type's index state of ``owner``, before a rebuild."""

    def reread(self, dist) -> None:
        """Read ``dist``'s metadata again from its blob (``reindex --reinspect``)."""

    def page_context(self, request, package) -> dict:
        """Values for ``page_template`` (read-only: GET requests never write)."""
        return {}
