"""Faces are plugins too: ``config.add_face(...)`` registers a mount of the URL space.

A *face* is one way clients reach the same object tree: the web pages (the
default face, no mount), the binstar API (``/api``), a conda channel
(``/conda``), a PyPI index (``/pypi``), a CRAN-like repository (``/r``), or
whatever a third-party plugin adds (``/npm``, ``/v2`` for OCI).  What the core
does per face is read from this registry, never from a list of names:

* the token middleware understands ``/<mount>/t/<token>/`` for every mount with
  ``token_in_path`` and maps ``<mount>.<host>`` onto ``/<mount>`` when the face
  says ``subdomain=True``;
* the security policy asks which face a request addresses
  (:meth:`FaceRegistry.for_path`); only faces with ``sessions=True`` (the web)
  read the session cookie, check CSRF and send an anonymous refused GET to the
  login page;
* token scopes are the union of what faces declare (:class:`Scope`): a scope
  grants permissions per face, and several faces may add grants to one scope
  (every repository face adds ``view`` to ``repos``);
* errors are rendered in the face's ``error_format`` (``"json"``, ``"text"``,
  ``"html"`` or a callable ``(request, status, message) -> Response``);
* owner names equal to a mount (and any ``reserved_owner_names``) can not be
  taken: the face's route would shadow the owner's page;
* the API's root document names the face's URL under its ``api_root_key``.

Registering a face name or a mount twice is a Pyramid configuration conflict;
each face is an introspectable (category ``anarepo faces``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

#: A face or a permission set that means "every one" in a scope's grants.
ANY = "*"

ERROR_FORMATS = ("json", "text", "html")


@dataclass(frozen=True)
class Scope:
    """A token scope: what it lets a token do, per face.

    ``grants`` maps a face name (or :data:`ANY`) to the permissions granted
    there (or :data:`ANY`).  ``reads_types`` names package types whose files the
    scope may also read on faces with ``typed_reads`` (the API: ``anaconda -t
    TOKEN download`` with a ``conda:download`` token fetches conda files).
    """

    description: str = ""
    grants: Mapping[str, object] = field(default_factory=dict)
    reads_types: tuple = ()


@dataclass(frozen=True)
class Face:
    """One registered face (see the module docstring for what reads each field)."""

    name: str
    mount: str | None
    error_format: object = "text"
    subdomain: bool = False
    reserved_owner_names: frozenset = frozenset()
    token_in_path: bool = True
    sessions: bool = False
    typed_reads: bool = False
    title: str = ""
    api_root_key: str | None = None


def _merge_scope(table: dict, name: str, scope: Scope) -> None:
    old = table.get(name)
    if old is None:
        table[name] = Scope(scope.description, dict(scope.grants), tuple(scope.reads_types))
        return
    grants = dict(old.grants)
    for face, perms in scope.grants.items():
        have = grants.get(face)
        if have == ANY or perms == ANY:
            grants[face] = ANY
        else:
            grants[face] = tuple(dict.fromkeys(tuple(have or ()) + tuple(perms)))
    table[name] = Scope(old.description or scope.description, grants,
                        tuple(dict.fromkeys(old.reads_types + tuple(scope.reads_types))))


class FaceRegistry:
    """The registered faces, looked up by name, by mount, or by a request's path."""

    def __init__(self):
        self.by_name: dict[str, Face] = {}
        self.by_mount: dict[str, Face] = {}
        self.default: Face | None = None
        self.scopes: dict[str, Scope] = {}

    def add(self, face: Face, scopes: Mapping[str, Scope]) -> None:
        self.by_name[face.name] = face
        if face.mount is None:
            self.default = face
        else:
            self.by_mount[face.mount] = face
        for name, scope in scopes.items():
            _merge_scope(self.scopes, name, scope)
        # "all" first, then by name: one order for the API, the pages and the errors
        self.scopes = dict(sorted(self.scopes.items(), key=lambda kv: (kv[0] != "all", kv[0])))

    def __getitem__(self, name: str) -> Face:
        return self.by_name[name]

    def __contains__(self, name) -> bool:
        return name in self.by_name

    def __iter__(self):
        return iter(self.by_name.values())

    def for_path(self, path: str) -> Face:
        """The face a ``PATH_INFO`` addresses: the one mounted at its first segment,
        else the default face."""
        first = path.lstrip("/").split("/", 1)[0]
        face = self.by_mount.get(first)
        if face is not None:
            return face
        if self.default is None:
            raise LookupError("no default face registered")
        return self.default

    def token_mounts(self) -> tuple[str, ...]:
        return tuple(sorted(m for m, f in self.by_mount.items() if f.token_in_path))

    def subdomain_mounts(self) -> tuple[str, ...]:
        return tuple(sorted(m for m, f in self.by_mount.items() if f.subdomain))

    def json_mounts(self) -> tuple[str, ...]:
        return tuple(sorted(m for m, f in self.by_mount.items() if f.error_format == "json"))

    def reserved_owner_names(self) -> frozenset:
        names = set()
        for face in self.by_name.values():
            names.update(face.reserved_owner_names)
            if face.mount is not None:
                names.add(face.mount)
        return frozenset(names)


def _scope(value) -> Scope:
    if isinstance(value, Scope):
        return value
    if isinstance(value, tuple) and len(value) in (2, 3):
        return Scope(*value)
    raise ValueError(f"a scope is a Scope or (description, grants[, reads_types]), not {value!r}")


def add_face(config, name: str, mount: str | None = None, factory=None, scopes: Mapping | None = None,
             error_format: str | Callable = "text", subdomain: bool = False, reserved_owner_names=(),
             token_in_path: bool = True, sessions: bool = False, typed_reads: bool = False, title: str = "",
             api_root_key: str | None = None):
    """Register a face (see the module docstring).

    ``mount`` is the first path segment (``"npm"`` for ``/npm/...``), or None for
    the default face.  ``factory``, if given, becomes the root factory of a route
    named ``name`` at ``/<mount>/*traverse``: the face's resources are then found
    by traversal and its views declare ``route_name=name``.  ``scopes`` maps
    scope names to :class:`Scope` (or ``(description, grants[, reads_types])``).
    ``api_root_key`` names the face's URL in the API's root document
    (anaconda-client reads ``conda_url`` and ``pypi_url`` there).
    """
    if not name or not isinstance(name, str):
        raise ValueError("a face needs a name")
    if mount is not None:
        mount = mount.strip("/")
        if not mount or "/" in mount:
            raise ValueError(f"face {name!r}: a mount is one path segment, not {mount!r}")
    if not (callable(error_format) or error_format in ERROR_FORMATS):
        raise ValueError(f"face {name!r}: error_format is one of {ERROR_FORMATS} or a callable")
    if factory is not None and mount is None:
        raise ValueError(f"face {name!r}: a factory needs a mount")
    face = Face(
        name=name, mount=mount, error_format=error_format, subdomain=bool(subdomain),
        reserved_owner_names=frozenset(reserved_owner_names), token_in_path=bool(token_in_path),
        sessions=bool(sessions), typed_reads=bool(typed_reads), title=title or name, api_root_key=api_root_key,
    )
    scopes = {scope_name: _scope(value) for scope_name, value in (scopes or {}).items()}
    intr = config.introspectable("anarepo faces", name, face.title, "anarepo face")
    intr["face"] = face
    intr["mount"] = mount
    intr["scopes"] = scopes

    def register():
        config.registry.anarepo_faces.add(face, scopes)

    # one face per name and one per mount (``None``: the one default face)
    config.action(("anarepo.face", name), register, introspectables=(intr,))
    config.action(("anarepo.face.mount", mount), None)
    if factory is not None:
        config.add_route(name, f"/{mount}/*traverse", factory=factory)


def faces(request_or_registry) -> FaceRegistry:
    registry = getattr(request_or_registry, "registry", request_or_registry)
    return registry.anarepo_faces


def face_of(request) -> Face:
    """The face ``request`` addresses."""
    return faces(request).for_path(request.path_info)


def includeme(config):
    if getattr(config.registry, "anarepo_faces", None) is None:
        config.registry.anarepo_faces = FaceRegistry()
    config.add_directive("add_face", add_face)
