"""Label operations on an owner's distributions ("channels" in the anaconda.org API).

A label is a name on files (``main`` by default); conda channels and PyPI
indexes per label are derived from ``Distribution.labels``.  Every change here
ends with :func:`anarepo.services.events.package_changed` for each affected package, in
the caller's transaction, so the type plugins keep their indexes in step.  A
locked label refuses every write: adding or removing files, copying into it,
removing it.  Permission checks are the caller's.

Every file keeps at least one label.  A file that lost its last label would be
in no channel at all, with no command to bring it back, and falling back to
``main`` would publish test builds to the default channel; so a removal that
would leave a file without a label is refused (move the files first, or remove
them), and ``main``, the default label, is never removed as a whole.
"""
from __future__ import annotations

from .. import names
from ..errors import Conflict, Locked, NotFound
from .events import package_changed

DEFAULT_LABEL = "main"


def check_unlocked(owner, labels) -> None:
    for name in set(labels):
        label = owner.labels.get(name)
        if label is not None and label.locked:
            raise Locked(f"label {name!r} is locked")


def get_label(owner, name: str):
    label = owner.labels.get(names.check_label(name))
    if label is None:
        raise NotFound(f"label {name!r} of {owner.login} not found")
    return label


def select(owner, package: str | None = None, version: str | None = None,
           basename: str | None = None, label: str | None = None):
    """The owner's distributions matching a spec (``None`` matches everything)."""
    if package:
        found = owner.get_package(package)
        if found is None:
            raise NotFound(f"package {owner.login}/{package} not found")
        packages = [found]
    else:
        packages = list(owner.packages.values())
    out = []
    for pkg in packages:
        if version:
            release = pkg.releases.get(version)
            if release is None:
                if package:
                    raise NotFound(f"release {pkg.full_name}/{version} not found")
                continue
            releases = [release]
        else:
            releases = list(pkg.releases.values())
        for release in releases:
            if basename:
                dist = release.files.get(basename)
                candidates = [dist] if dist is not None else []
            else:
                candidates = list(release.files.values())
            out.extend(d for d in candidates if label is None or label in d.labels)
    if basename and package and version and not out and label is None:
        raise NotFound(f"file {basename} not found")
    return out


def _changed(registry, dists, request) -> None:
    packages = {}
    for dist in dists:
        packages[id(dist.package)] = dist.package
    for package in packages.values():
        package_changed(registry, package, request)


def add_files(registry, owner, label: str, dists, request=None) -> list:
    """Put ``label`` on each distribution; returns those that changed."""
    label = names.check_label(label)
    check_unlocked(owner, [label])
    changed = [d for d in dists if label not in d.labels]
    for dist in changed:
        dist.set_labels(dist.labels + (label,))
    owner.ensure_label(label)
    _changed(registry, changed, request)
    return changed


def remove_files(registry, owner, label: str, dists, request=None) -> list:
    """Take ``label`` off each distribution; refused if one would be left on no label."""
    label = names.check_label(label)
    check_unlocked(owner, [label])
    changed = [d for d in dists if label in d.labels]
    stranded = [d for d in changed if len(d.labels) == 1]
    if stranded:
        raise Conflict(
            f"{len(stranded)} file(s) are on no label but {label!r} (such as {stranded[0].full_name}) and would"
            f" be left in no channel; move them first (anaconda move --from-label {label} --to-label LABEL"
            f" SPEC) or remove them (anaconda remove SPEC)"
        )
    for dist in changed:
        dist.set_labels(tuple(x for x in dist.labels if x != label))
    _changed(registry, changed, request)
    return changed


def remove_label(registry, owner, label: str, request=None) -> list:
    """Remove a whole label: from every file, and the label itself; never ``main``."""
    label_obj = get_label(owner, label)
    if label_obj.name == DEFAULT_LABEL:
        raise Conflict(
            f"{DEFAULT_LABEL!r} is the default label and cannot be removed; to take files off it, move them"
            f" (anaconda move --from-label {DEFAULT_LABEL} --to-label LABEL SPEC) or remove them (anaconda remove SPEC)"
        )
    changed = remove_files(registry, owner, label_obj.name, select(owner, label=label_obj.name), request)
    owner.labels.remove(label_obj.name)
    return changed


def copy_label(registry, owner, source: str, target: str, request=None) -> list:
    """Put ``target`` on every file labelled ``source``."""
    get_label(owner, source)
    return add_files(registry, owner, target, select(owner, label=names.check_label(source)), request)


def move_files(registry, owner, source: str, target: str, dists, request=None) -> list:
    """Label ``target`` instead of ``source`` on the given files."""
    source, target = names.check_label(source), names.check_label(target)
    check_unlocked(owner, [source, target])
    moving = [d for d in dists if source in d.labels]
    add_files(registry, owner, target, moving, request)
    remove_files(registry, owner, source, moving, request)
    return moving


def set_locked(registry, owner, label: str, locked: bool, request=None) -> None:
    label_obj = get_label(owner, label)
    if label_obj.locked != locked:
        label_obj.locked = locked
        _changed(registry, select(owner, label=label_obj.name), request)


def label_files(owner, label: str) -> list:
    get_label(owner, label)
    return select(owner, label=names.check_label(label))


def label_summary(owner, visible=lambda package: True) -> dict:
    """label → {is_locked, num_files}; counts only files of packages ``visible`` allows."""
    counts = {name: 0 for name in owner.labels.keys()}
    for package in owner.packages.values():
        if not visible(package):
            continue
        for dist in package.distributions():
            for name in dist.labels:
                counts[name] = counts.get(name, 0) + 1
    out = {}
    for name, count in counts.items():
        label = owner.labels.get(name)
        out[name] = {"is_locked": bool(label is not None and label.locked), "num_files": count}
    return out
