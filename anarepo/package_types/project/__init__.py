"""The ``project`` type: a directory of code and assets, uploaded as an archive.

Each upload is a revision (versions ``1``, ``2``, ...).  When the archive holds
an ``anaconda-project.yml`` its name, description and commands are shown.  The
archive is listed, never extracted; unsafe paths are refused.
"""
from __future__ import annotations

import yaml

from ...plugins.api import (
    BudgetExceeded, FileInfo, InvalidPackage, PackageType, Unbounded, load_yaml, version_key,
)
from ..archives import read_tar_member, read_zip_member, tar_members, zip_names
from ..common import stem

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar", ".zip")
PROJECT_FILE = "anaconda-project.yml"
MAX_LISTED = 5000


def _strip_top(names: list[str]) -> tuple[str | None, list[str]]:
    """Archives of a directory have one top folder; list paths relative to it."""
    tops = {n.split("/", 1)[0] for n in names if n}
    if len(tops) == 1 and all("/" in n or n.rstrip("/") in tops for n in names):
        top = tops.pop()
        return top, [n.split("/", 1)[1] for n in names if "/" in n and n.split("/", 1)[1]]
    return None, names


def list_archive(path, filename: str) -> tuple[list[tuple[str, int]], dict]:
    files, spec, spec_text = [], {}, None
    if filename.lower().endswith(".zip"):
        import zipfile

        names = zip_names(path, filename)
        with zipfile.ZipFile(path) as zf:
            infos = {i.filename: i for i in zf.infolist()}
            sizes = {name: info.file_size for name, info in infos.items()}
            for name in names:
                if name.rstrip("/").split("/")[-1] == PROJECT_FILE and name.count("/") <= 1:
                    spec_text = read_zip_member(zf, infos[name], filename, 256 * 1024)
        files = [(n, sizes[n]) for n in names if not n.endswith("/")]
    else:
        for member, tar in tar_members(path, filename):
            if member.isfile():
                files.append((member.name, member.size))
                if member.name.split("/")[-1] == PROJECT_FILE and member.name.count("/") <= 1:
                    spec_text = read_tar_member(tar, member, filename, 256 * 1024)
    if not files:
        raise InvalidPackage(f"{filename}: the archive is empty")
    top, relative = _strip_top([n for n, _ in files])
    if top is not None:
        files = [(n.split("/", 1)[1], s) for n, s in files if "/" in n]
    if spec_text is not None:
        try:
            loaded = load_yaml(spec_text.decode("utf-8", "replace"), yaml.SafeLoader)
        except (yaml.YAMLError, Unbounded):
            raise InvalidPackage(f"{filename}: {PROJECT_FILE} is not valid YAML") from None
        if isinstance(loaded, dict):
            spec = loaded
    return files, {"top": top, "spec": spec}


class ProjectType(PackageType):
    name = "project"
    title = "Project"
    detect_priority = 60
    page_template = "anarepo.package_types.project:templates/page.jinja2"
    list_title = "Projects"
    list_path = "projects"  # the acting owner's projects at /projects, as on anaconda.org

    def next_version(self, versions) -> str:
        """Projects are numbered revisions: an upload without a version is the next one."""
        return next_revision(versions)

    packs_directories = True  # ``anarepo upload DIR``

    def pack_directory(self, directory):
        """A project directory becomes ``<name>.tar.gz`` with one top folder (VCS and
        cache folders left out, symbolic links never followed)."""
        import os
        import tarfile
        import tempfile
        from pathlib import Path

        fd, path = tempfile.mkstemp(prefix="anarepo-project-", suffix=".tar.gz")
        os.close(fd)
        with tarfile.open(path, "w:gz") as tar:
            for item in sorted(directory.rglob("*")):
                if item.is_symlink() or not item.is_file():
                    continue
                relative = item.relative_to(directory)
                if any(part in (".git", "__pycache__", ".ipynb_checkpoints") for part in relative.parts):
                    continue
                tar.add(item, arcname=f"{directory.name}/{relative.as_posix()}", recursive=False)
        return Path(path), f"{directory.name}.tar.gz"

    def detect(self, filename, path) -> bool:
        if not filename.lower().endswith(ARCHIVE_SUFFIXES):
            return False
        try:
            _files, meta = list_archive(path, filename)
        except BudgetExceeded:
            raise  # a bomb is refused, not taken for another type
        except InvalidPackage:
            return False
        return bool(meta["spec"])

    def inspect(self, path, filename, name=None, version=None) -> FileInfo:
        if not filename.lower().endswith(ARCHIVE_SUFFIXES):
            raise InvalidPackage(f"{filename}: upload a project as a .tar.gz, .tar.bz2 or .zip archive of its directory")
        files, meta = list_archive(path, filename)
        spec = meta["spec"]
        project_name = name or (spec.get("name") if isinstance(spec.get("name"), str) else None) or meta["top"] \
            or stem(filename, *ARCHIVE_SUFFIXES)
        if not version:
            raise InvalidPackage(f"{filename}: a project upload needs its revision number as the version")
        commands = spec.get("commands") if isinstance(spec.get("commands"), dict) else {}
        listed = sorted(files)[:MAX_LISTED]
        return FileInfo(
            name=project_name,
            version=version,
            basename=filename.rsplit("/", 1)[-1],
            summary=str(spec.get("description") or f"Project {project_name}")[:1000],
            attrs={
                "files": [[n, s] for n, s in listed],
                "file_count": len(files),
                "truncated": len(files) > MAX_LISTED,
                "commands": sorted(str(c) for c in commands)[:100],
                "has_project_file": bool(spec),
            },
        )

    def check_placement(self, info, package_name, version, basename) -> None:
        if not version.isdigit():
            raise InvalidPackage(f"project revisions are numbers (1, 2, ...), not {version!r}")

    def install_hints(self, request, package, label="main"):
        return [("anarepo", f"anarepo download {package.full_name}")]

    def page_context(self, request, package) -> dict:
        revisions = sorted(
            (d for d in package.distributions() if d.type == "project"),
            key=lambda d: version_key(d.version), reverse=True,
        )
        return {"revisions": revisions, "latest": revisions[0] if revisions else None}


def next_revision(versions) -> str:
    """The revision number the next upload of a project gets, after ``versions``."""
    numbers = [int(v) for v in versions if str(v).isdigit()]
    return str(max(numbers, default=0) + 1)


def includeme(config):
    config.add_package_type(ProjectType())
