"""Managing an owner's sources: the one place the API, the CLI and the web page change them."""
from __future__ import annotations

from .model import SUBDIRS_MESSAGE, Source, SourceError


def check_scopes(registry, kind: str, options: dict) -> None:
    """Refuse subdirs the source's type does not know (its ``upstream_records.scopes``);
    without a registry (tests, scripts) only their shape is checked (:class:`Source`)."""
    if registry is None or not options.get("subdirs"):
        return
    ptype = registry.package_types.get(kind)
    scopes = ptype.upstream_records.scopes if ptype is not None and ptype.upstream_records is not None else None
    if scopes is not None and not set(options["subdirs"]) <= scopes:
        raise SourceError(SUBDIRS_MESSAGE)


def add_source(owner, name: str, kind: str, url: str, *, auth: str = "none", secret: str = "",
               user: str = "", registry=None, **options) -> Source:
    """Create a source of ``owner`` (refused when the name is taken or anything is invalid)."""
    check_scopes(registry, kind, options)
    source = Source(name, kind, url, **options)
    source.set_auth(auth, secret, user)
    if source.name in owner.sources:
        raise SourceError(f"{owner.login} has a source named {source.name!r} already")
    owner.sources.add(source.name, source)
    source.__parent__ = owner
    owner.ensure_label(source.label)
    return source


def change_source(source, registry=None, **options) -> None:
    """Change a source's settings (see :meth:`Source.configure`)."""
    check_scopes(registry, source.kind, options)
    source.configure(**options)


def set_label_filters(owner, label: str, kind: str, filters: dict) -> dict:
    """Filters every ``kind`` source feeding ``owner``'s ``label`` obeys besides its own
    (``{}`` clears them).  Those sources re-read their upstream on the next run."""
    from ..names import InvalidName, check_label
    from .filters import Filters
    from .model import KINDS

    if kind not in KINDS:
        raise SourceError(f"kind must be one of {', '.join(KINDS)}")
    try:
        label = check_label(label)
    except InvalidName as exc:
        raise SourceError(str(exc)) from None
    parsed = Filters.parse(filters or {}, kind).as_dict()
    target = owner.ensure_label(label)
    current = dict(target.source_filters)
    if parsed:
        current[kind] = parsed
    else:
        current.pop(kind, None)
    target.source_filters = current
    for source in owner.sources.values():
        if source.label == label and source.kind == kind:
            source.validators.clear()
    return current


def remove_source(owner, name: str) -> Source:
    """Forget a source; what it brought stays (it is ordinary packages now)."""
    source = owner.sources.get(name.lower())
    if source is None:
        raise SourceError(f"{owner.login} has no source named {name!r}")
    return owner.sources.remove(source.name)


def add_sources_folder(root) -> None:
    """Evolve step: every owner gets its (empty) ``sources`` folder."""
    from ..resources.folder import Folder

    for owner in root.owners.values():
        if "sources" not in owner.__dict__:
            owner.sources = Folder()
