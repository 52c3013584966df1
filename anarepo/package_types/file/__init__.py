"""The ``file`` type: any file, placed by an explicit package name and version.

Nothing is read from the file, so uploads must say ``-t file -p NAME -v VERSION``.
"""
from __future__ import annotations

from ...plugins.api import FileInfo, InvalidPackage, PackageType


class FileType(PackageType):
    name = "file"
    title = "File"
    detect_priority = 1000  # never auto-detected
    needs_explicit_name = True
    takes_undetected = True
    list_title = "Files"

    def inspect(self, path, filename, name=None, version=None) -> FileInfo:
        if not name or not version:
            raise InvalidPackage(
                f"{filename}: plain files need an explicit package name and version"
                " (--package-type file --package NAME --version VERSION)"
            )
        return FileInfo(name=name, version=version, basename=filename)

    def check_placement(self, info, package_name, version, basename) -> None:
        if info.basename != basename:
            raise InvalidPackage(f"the file name {basename!r} does not match the upload ({info.basename!r})")

    page_template = "anarepo.package_types.file:templates/page.jinja2"

    def install_hints(self, request, package, label="main"):
        return [("anaconda", f"anaconda download {package.full_name}")]

    def page_context(self, request, package) -> dict:
        from .preview import delimiter_for, table_preview

        tables = [d for d in package.distributions() if d.type == "file" and delimiter_for(d.basename)]
        if not tables:
            return {"preview": None}
        newest = max(tables, key=lambda d: d.upload_time)
        return {"dist": newest, "preview": table_preview(newest)}


def includeme(config):
    config.add_package_type(FileType())
