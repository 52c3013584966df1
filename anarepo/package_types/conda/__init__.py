"""The ``conda`` package type: .tar.bz2 and .conda packages, and the conda channel face.

* :mod:`.inspect` reads and validates package metadata (without extracting);
* :mod:`.index` keeps per-package index records in ZODB, updated by
  :meth:`CondaType.package_changed` in the writing transaction;
* :mod:`.render` serializes fragments, shards and whole documents;
* :mod:`.face` serves ``/conda/<owner>[/label/<label>]/<subdir>/...``.
"""
from __future__ import annotations

from ...plugins.api import InvalidPackage, PackageType, package_key
from .index import STATE, CondaChannel, drop_package, get_channel, snapshot, update_package
from .inspect import inspect_package, looks_like_conda
from .upstream import CondaUpstreamRecords


def _index_once(packages) -> int:
    changed = 0
    for package in packages:
        if package.__parent__ is not None:
            changed += update_package(package.owner, package)
    return changed


class CondaType(PackageType):
    name = "conda"
    title = "Conda"
    detect_priority = 10
    shares_packages_with = frozenset({"pypi"})  # a conda and a PyPI build of one project

    def detect(self, filename: str, path) -> bool:
        return looks_like_conda(filename, path)

    def inspect(self, path, filename: str, name=None, version=None):
        return inspect_package(path, filename)

    def check_placement(self, info, package_name: str, version: str, basename: str) -> None:
        if "/" not in basename and info.platform:
            basename = f"{info.platform}/{basename}"
        super().check_placement(info, package_name, version, basename)

    def package_changed(self, event, registry) -> None:
        package = event.package
        key = package_key(package.name)
        previous = event.previous_owner
        if event.removed:
            drop_package(previous if previous is not None else package.owner, key)
            return
        if previous is not None and previous is not package.owner:
            drop_package(previous, key)
        batch = event.batch
        if batch is not None:  # many files in this transaction: index the package once, at the end
            batch.defer(self.name, package)
            return
        update_package(package.owner, package)

    def end_batch(self, batch) -> None:
        _index_once(batch.deferred(self.name))

    keeps_index = True
    upstream_records = CondaUpstreamRecords()  # mirrors and proxies of conda channels

    def add_cli_commands(self, subparsers, command) -> None:
        from .cli import add_commands

        add_commands(subparsers, command)

    def index_snapshot(self, owner):
        return snapshot(get_channel(owner))

    def reset_index(self, owner) -> None:
        owner.indexes[STATE] = CondaChannel()

    def reread(self, dist) -> None:
        with dist.blob.open("r") as f:  # any build time: the file was accepted when uploaded
            dist.attrs = dict(inspect_package(f.name, dist.basename, now_ms=2**62).attrs)

    def platforms(self, package) -> set[str]:
        subdirs = set()
        for dist in package.distributions():
            if dist.type == self.name:
                subdir = (dist.attrs or {}).get("subdir") or dist.basename.partition("/")[0]
                if subdir and subdir != dist.basename:
                    subdirs.add(subdir)
        return subdirs

    def builds(self, release) -> set[str]:
        return {(d.attrs or {}).get("build") for d in release.files.values() if d.type == self.name}

    def install_hints(self, request, package, label: str = "main"):
        """The full channel URL works everywhere; the short ``-c OWNER`` form only
        once conda's ``channel_alias`` points at this server, so the hint says so."""
        channel = package.owner.login if label == "main" else f"{package.owner.login}/label/{label}"
        alias = f"{request.application_url}/conda"
        hints = [
            ("conda", f"conda install -c {alias}/{channel} {package.name}"),
            (f"conda, short form (after conda config --set channel_alias {alias})",
             f"conda install -c {channel} {package.name}"),
        ]
        if package.access != "public":
            hints.append(("conda with a token", f"conda install -c {alias}/t/<TOKEN>/{channel} {package.name}"))
        return hints


def includeme(config):
    config.add_package_type(CondaType())
    config.include(".face")
    # the channels move into Owner.indexes first: the steps below read them there
    config.add_evolve_step("anarepo.package_types.conda.index.move_to_plugin_state", "conda.plugin-state-1")
    # fields older indexes lack (public revisions, pre-encoded shard entries...), before any step writes
    config.add_evolve_step("anarepo.package_types.conda.index.complete_index_fields", "conda.index-fields-1")
    # current_repodata.json and channeldata kept in the PEP 440 order before conda's VersionOrder
    config.add_evolve_step("anarepo.package_types.conda.index.rebuild_all", "conda.version-order-1")


__all__ = ["CondaType", "InvalidPackage"]
