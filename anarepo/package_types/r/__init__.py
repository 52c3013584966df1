"""The ``r`` type: R source packages (``<Package>_<Version>.tar.gz`` with DESCRIPTION).

Each owner (and label) is a CRAN-like repository at ``/r/<owner>[/label/<l>]``:
``install.packages("pkg", repos = "https://HOST/r/OWNER")`` reads
``src/contrib/PACKAGES(.gz)`` and downloads ``src/contrib/<file>``.
"""
from __future__ import annotations

import re

from ...plugins.api import BudgetExceeded, FileInfo, InvalidPackage, PackageType
from ..archives import read_tar_member, tar_members
from .description import parse_dcf

FILENAME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9.]*)_([0-9]+[.-][0-9.\-]*[0-9])\.tar\.gz$")


def read_description(path, filename: str) -> dict:
    description, namespace, top = None, False, None
    for member, tar in tar_members(path, filename):
        parts = member.name.strip("/").split("/")
        top = top or parts[0]
        if len(parts) == 2 and parts[1] == "DESCRIPTION" and member.isfile():
            description = read_tar_member(tar, member, filename, 512 * 1024)
        elif len(parts) == 2 and parts[1] == "NAMESPACE":
            namespace = True
    if description is None:
        raise InvalidPackage(f"{filename}: no <package>/DESCRIPTION in the archive: not an R source package")
    fields = parse_dcf(description.decode("utf-8", "replace"), filename)
    for key in ("Package", "Version"):
        if not fields.get(key):
            raise InvalidPackage(f"{filename}: DESCRIPTION has no {key} field")
    if top != fields["Package"]:
        raise InvalidPackage(f"{filename}: the archive's folder {top!r} is not the package {fields['Package']!r}")
    fields["_has_namespace"] = namespace
    return fields


class RType(PackageType):
    name = "r"
    title = "R"
    aliases = ("cran", "standard_r")
    detect_priority = 30

    def detect(self, filename, path) -> bool:
        if not filename.endswith((".tar.gz", ".tgz")):
            return False
        try:
            read_description(path, filename)
        except BudgetExceeded:
            raise  # a bomb is refused, not taken for another type
        except InvalidPackage:
            return False
        return True

    def inspect(self, path, filename, name=None, version=None) -> FileInfo:
        fields = read_description(path, filename)
        package, ver = fields["Package"], fields["Version"]
        expected = f"{package}_{ver}.tar.gz"
        if filename.rsplit("/", 1)[-1] != expected:
            raise InvalidPackage(f"{filename}: R source packages are named {expected}")
        attrs = {k: v for k, v in fields.items() if not k.startswith("_") and k not in ("Package", "Version")}
        attrs["type"] = "source"
        return FileInfo(
            name=package,
            version=ver,
            basename=expected,
            summary=fields.get("Title", ""),
            description=fields.get("Description", ""),
            license=fields.get("License", ""),
            home=fields.get("URL", "").split(",")[0].strip(),
            attrs=attrs,
        )

    def check_placement(self, info, package_name, version, basename) -> None:
        super().check_placement(info, package_name, version, basename)

    def package_changed(self, event, registry) -> None:
        from .index import update_package

        update_package(event)

    keeps_index = True

    def index_snapshot(self, owner):
        from .index import index_of

        index = index_of(owner)
        if index is None:
            return {}
        return {label: (dict(lab.entries.items()), dict(lab.restricted.items()))
                for label, lab in index.labels.items() if len(lab.entries)}

    def reset_index(self, owner) -> None:
        from .index import reset

        reset(owner)

    def reread(self, dist) -> None:
        with dist.blob.open("r") as f:
            dist.attrs = dict(self.inspect(f.name, dist.basename).attrs)

    def install_hints(self, request, package, label="main"):
        base = request.application_url + "/r/" + package.owner.login
        return [("R", f'install.packages("{package.name}", repos = "{base}")')]


def includeme(config):
    config.add_package_type(RType())
    config.add_evolve_step("anarepo.package_types.r.index.move_to_plugin_state", "r.plugin-state-1")
    config.add_evolve_step("anarepo.package_types.r.index.onto_skeleton", "r.skeleton-1")
    config.include(".face")
