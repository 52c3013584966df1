"""The ``pypi`` package type: wheels and sdists, and the PyPI simple index face.

* ``inspect``  — reads wheels and sdists with pkginfo, bounded, never extracted;
* ``index``    — index state per (owner, label, project), kept by ``package_changed``;
* ``face``     — the ``/pypi/*traverse`` route and its transient resources;
* ``simple``   — PEP 503 HTML / PEP 691 JSON pages, negotiated, cached, 304;
* ``files``    — files and their PEP 658 ``.metadata``;
* ``upload``   — the legacy upload API (twine, uv publish, poetry);
* ``yank``     — ``/api/yank/...`` (PEP 592).
"""
from __future__ import annotations

from ...plugins.api import BudgetExceeded, FileInfo, InvalidPackage, PackageType, package_key
from .inspect import WHEEL_SUFFIX, dependencies, is_pypi_filename, normalize, read_metadata, same_version


class PypiType(PackageType):
    name = "pypi"
    title = "Standard Python"
    aliases = ("PyPI", "standard_python")
    detect_priority = 20
    yankable = True
    version_scheme = "pep440"  # a package of PyPI files only orders its versions as pip does
    shares_packages_with = frozenset({"conda"})  # a conda and a PyPI build of one project

    def detect(self, filename: str, path) -> bool:
        """Wheels by their name; sdists only when they hold a ``PKG-INFO``."""
        if filename.endswith(WHEEL_SUFFIX):
            return True
        if not is_pypi_filename(filename):
            return False
        try:
            read_metadata(path, filename.rsplit("/", 1)[-1])
        except BudgetExceeded:
            raise  # a bomb is refused, not taken for another type
        except InvalidPackage:
            return False
        return True

    def inspect(self, path, filename: str, name: str | None = None, version: str | None = None) -> FileInfo:
        basename = filename.rsplit("/", 1)[-1]
        core = read_metadata(path, basename)
        attrs = {
            "packagetype": core.packagetype,
            "python_version": core.python_version,
            "metadata_version": core.metadata_version,
            "project": core.project,
            "requires_python": core.requires_python,
            "requires_dist": core.requires_dist,
            "provides_extras": core.provides_extras,
            "platform": core.platform,
        }
        if core.packagetype == "bdist_wheel":
            attrs["core_metadata_sha256"] = core.raw_sha256
        package_attrs = {"summary": core.summary}
        urls = {k.lower(): v for k, v in core.project_urls.items()}
        for field, keys in (("dev_url", ("source", "repository", "source code")),
                            ("doc_url", ("documentation", "docs"))):
            found = next((urls[k] for k in keys if k in urls), None)
            if found:
                package_attrs[field] = found
        return FileInfo(
            name=core.name,
            version=core.version,
            basename=basename,
            summary=core.summary,
            description=core.description,
            license=core.license,
            home=core.home_page,
            platform=core.platform,
            attrs=attrs,
            dependencies=dependencies(core.requires_dist),
            package_attrs=package_attrs,
            release_attrs={"summary": core.summary, "home_page": core.home_page,
                           "description_content_type": core.description_content_type,
                           "classifiers": core.classifiers, "author": core.author},
            payload={"core_metadata": core},
        )

    def check_placement(self, info: FileInfo, package_name: str, version: str, basename: str) -> None:
        """The project (PEP 503-normalized) and version (PEP 440) must match the target."""
        if normalize(info.name) != normalize(package_name):
            raise InvalidPackage(
                f"the file's project {info.name!r} does not match the package {package_name!r}"
                f" (normalized: {normalize(info.name)!r} != {normalize(package_name)!r})"
            )
        if not same_version(info.version, version):
            raise InvalidPackage(f"the file's version {info.version!r} does not match the release {version!r}")
        if info.basename != basename.rsplit("/", 1)[-1] or "/" in basename:
            raise InvalidPackage(f"the file name {basename!r} does not match its metadata ({info.basename!r})")

    def find_package(self, owner, name: str):
        """The owner's package for PyPI project ``name``: the one already holding
        the project's files, else one whose name normalizes the same, else None."""
        from .index import packages_for_project

        project = normalize(name)
        keys = packages_for_project(owner, project)
        preferred = package_key(name)
        for key in sorted(keys, key=lambda k: k != preferred):
            package = owner.packages.get(key)
            if package is not None:
                return package
        for candidate in (name, project, project.replace("-", "_"), project.replace("-", ".")):
            package = owner.get_package(candidate)
            if package is not None and normalize(package.name) == project:
                return package
        return None

    def check_package_name(self, owner, name: str) -> None:
        """One PEP 503 project page per owner: ``team_tool`` may not sit beside a
        ``team-tool`` that holds PyPI files (pip would mix their files)."""
        from ...plugins.api import NameTaken
        from .index import packages_for_project

        others = [k for k in packages_for_project(owner, normalize(name)) if k != package_key(name)]
        if others:
            raise NameTaken(
                f"{owner.login} already has a PyPI project {normalize(name)!r} under another package;"
                " names that differ only in case, '-', '_' or '.' are one project on PyPI",
                owner.packages.get(others[0]), owner, name,
            )

    def package_changed(self, event, registry) -> None:
        from .index import add_distribution, adopt_mirror_metadata, keep_metadata, owner_index, sync_package

        published = getattr(event, "dist", None)
        if published is not None and published.type == self.name:
            keep_metadata(published, event.info.payload.get("core_metadata"))
        if event.added is not None and event.added.type == self.name:
            adopt_mirror_metadata(event.added)

        package = event.package
        if not event.removed and event.previous_owner is None and "pypi" not in package.package_types:
            index = owner_index(package.owner)
            if index is None or package_key(package.name) not in index.places:
                return  # no PyPI file now nor indexed before: nothing to read (a conda package's change)
        if event.added is not None and add_distribution(event.package, event.added):
            return
        sync_package(event.package, removed=event.removed, previous_owner=event.previous_owner)

    keeps_index = True

    @property
    def upstream_records(self):  # mirrors and proxies of PyPI indexes
        from .upstream import PypiUpstreamRecords

        return PypiUpstreamRecords()

    def index_problems(self, root) -> list[str]:
        """PyPI name collisions of a database from before names were checked."""
        from .index import name_collisions

        return [f"PyPI name collision: {owner} has {', '.join(packages)} for the one project {project!r}"
                for owner, project, packages in name_collisions(root)]

    def index_snapshot(self, owner):
        from .index import snapshot

        return snapshot(owner)

    def reset_index(self, owner) -> None:
        from .index import reset

        reset(owner)

    def reread(self, dist) -> None:
        from .index import forget_metadata, stored_metadata

        forget_metadata(dist)
        stored_metadata(dist)

    def install_hints(self, request, package, label: str = "main"):
        """``pip install`` against this owner's index (with a token placeholder if not public)."""
        prefix = request.host_url + ("/t/<TOKEN>" if package.access != "public" else "")
        where = package.owner.login + (f"/label/{label}" if label != "main" else "")
        hints = [("pip", f"pip install --index-url {prefix}/pypi/{where}/simple/ {normalize(package.name)}")]
        if package.access != "public":  # the token after the mount point, as conda puts it
            index = f"{request.application_url}/pypi/t/<TOKEN>/{where}"
            hints.append(("pip with a token", f"pip install --index-url {index}/simple/ {package.name}"))
        return hints


def includeme(config):
    config.add_package_type(PypiType())
    config.include(".face")
    config.scan(".simple")
    config.scan(".files")
    config.scan(".upload")
    config.include(".yank")
    # the index moves into Owner.indexes first: the steps below read it there
    config.add_evolve_step("anarepo.package_types.pypi.index.move_to_plugin_state", "pypi.plugin-state-1")
    # and each wheel's METADATA into Distribution.extras (after core.distribution-extras-1)
    config.add_evolve_step("anarepo.package_types.pypi.index.move_metadata_to_extras", "pypi.distribution-extras-1")
    # then onto the core's index skeleton (places, Revision objects): the steps below use it
    config.add_evolve_step("anarepo.package_types.pypi.index.onto_skeleton", "pypi.skeleton-1")
    # databases that held wheels before this plugin indexed them (fresh ones skip it)
    config.add_evolve_step("anarepo.package_types.pypi.index.reindex_all", "pypi.index-state-1")
    # records BTree conflict resolution can order (two uploads into one project)
    config.add_evolve_step("anarepo.package_types.pypi.index.comparable_records", "pypi.comparable-records")
    config.add_evolve_step("anarepo.package_types.pypi.index.report_name_collisions", "pypi.name-collisions-1")
