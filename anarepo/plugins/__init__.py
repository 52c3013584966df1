"""Package types are plugins: found through entry points, registered by a directive.

A plugin is any callable ``includeme(config)`` named in the entry-point group
``anarepo.package_types``.  It calls ``config.add_package_type(MyType())`` and may
add views, routes, subscribers and evolve steps of its own.  Registering the
same type name twice is a Pyramid configuration conflict.  Built-in types use
exactly this path.
"""
from __future__ import annotations

from importlib.metadata import entry_points

from pyramid.settings import aslist

from ..versions import KEYS as SCHEMES
from ..versions import register_type_scheme

from .budget import BudgetExceeded, work_budget  # noqa: F401
from .faces import ANY, Face, Scope  # noqa: F401
from .interface import FileInfo, InvalidPackage, PackageType, UpstreamRecords  # noqa: F401

ENTRY_POINT_GROUP = "anarepo.package_types"

#: The type names anaconda-client accepts in ``package_types`` (its enum).
CLIENT_TYPE_NAMES = ("conda", "env", "file", "ipynb", "pypi", "r", "project", "installer")


class PackageTypeRegistry(dict):
    """name -> PackageType, with detection in priority order."""

    def ordered(self):
        return sorted(self.values(), key=lambda t: (t.detect_priority, t.name))

    def detect(self, filename: str, path) -> PackageType | None:
        for ptype in self.ordered():
            if ptype.detect(filename, path):
                return ptype
        return None

    def takes_undetected(self) -> PackageType | None:
        """The type that takes files no type detects (given a name and a version)."""
        return next((t for t in self.ordered() if t.takes_undetected), None)

    def resolve(self, name: str) -> PackageType:
        """A type by its name or one of its aliases (``standard_python`` → pypi)."""
        if name in self:
            return self[name]
        for ptype in self.values():
            if name in ptype.aliases:
                return ptype
        raise KeyError(name)

    def check_package_name(self, owner, name: str, types=None) -> None:
        """Every type (or those named in ``types``) may refuse ``name`` in ``owner``."""
        for ptype in self.ordered():
            if types is None or ptype.name in types:
                ptype.check_package_name(owner, name)


def add_package_type(config, ptype):
    ptype = config.maybe_dotted(ptype)
    if isinstance(ptype, type):
        ptype = ptype()
    name = ptype.name
    if not name or not isinstance(name, str):
        raise ValueError(f"{ptype!r} has no name")
    intr = config.introspectable("anarepo package types", name, ptype.title, "anarepo package type")
    intr["type"] = ptype

    if ptype.version_scheme not in SCHEMES:
        raise ValueError(f"type {name!r}: unknown version scheme {ptype.version_scheme!r} (one of {sorted(SCHEMES)})")

    def register():
        config.registry.package_types[name] = ptype
        register_type_scheme(name, ptype.version_scheme)

    config.action(("anarepo.package_type", name), register, introspectables=(intr,))


def package_types(request_or_registry) -> PackageTypeRegistry:
    registry = getattr(request_or_registry, "registry", request_or_registry)
    return registry.package_types


def load_entry_point_plugins(config) -> list[str]:
    disabled = set(aslist(config.registry.settings.get("anarepo.disabled_plugins", "")))
    loaded, seen = [], set()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name, e.value)):
        if ep.name in disabled or (ep.name, ep.value) in seen:
            continue
        seen.add((ep.name, ep.value))
        config.include(ep.load())
        loaded.append(ep.name)
    return loaded


def standalone_registry():
    """The package types without a server or a database (client-side detection).

    Plugins are included as the server includes them, with the directives they
    may use (``add_package_type``, ``add_evolve_step``); their views are
    registered too but never served.
    """
    from pyramid.config import Configurator

    from ..settings import with_defaults

    config = Configurator(settings=with_defaults({}))
    config.include("anarepo.evolve")
    config.include("anarepo.inspection")  # the same work budget as the server's
    config.include("anarepo.plugins")
    config.commit()
    return config.registry


def includeme(config):
    config.include(".faces")  # config.add_face, before any plugin uses it
    config.registry.package_types = PackageTypeRegistry()
    config.add_directive("add_package_type", add_package_type)
    config.registry.anarepo_plugins = load_entry_point_plugins(config)
