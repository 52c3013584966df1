"""The ``env`` type: conda environment files (``conda env export`` YAML).

Validated with a safe YAML load and a strict shape: ``name`` (string),
``channels`` (strings), ``dependencies`` (strings, or one ``{pip: [strings]}``
mapping), optional ``prefix``/``variables``; other keys are ignored, as conda
ignores them (with a warning).  ``conda env create owner/name``
finds the newest ``env`` file through ``GET /api/package`` and downloads it; the
raw file is also served for ``conda env create -f URL``.
"""
from __future__ import annotations

import re

import yaml

from ...plugins.api import BudgetExceeded, FileInfo, InvalidPackage, PackageType, Unbounded, load_yaml
from ..common import read_bounded, stem, timestamp_version

MAX_ENV = 1024 * 1024
MAX_ITEMS = 5000
SPEC_RE = re.compile(r"^[A-Za-z0-9_.\-:/@=<>!*,~+\[\] ]{1,300}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z0-9_.+-]{1,128}$")


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without anchors/aliases: no 'billion laughs' expansion."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise InvalidPackage("YAML aliases are not allowed in environment files")
        return super().compose_node(parent, index)


def parse_environment(text: str, filename: str) -> dict:
    try:
        data = load_yaml(text, _NoAliasLoader, what=f"{filename}")
    except Unbounded as exc:
        raise InvalidPackage(f"{filename}: {exc}") from None
    except yaml.YAMLError as exc:
        raise InvalidPackage(f"{filename}: malformed YAML ({exc.__class__.__name__}: {getattr(exc, 'problem', '') or exc})") from None
    if not isinstance(data, dict):
        raise InvalidPackage(f"{filename}: an environment file is a mapping with name, channels and dependencies")
    # other keys (conda-lock's ``platforms``, ``category``) are ignored, as conda does
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or not ENV_NAME_RE.fullmatch(name)):
        raise InvalidPackage(f"{filename}: 'name' must be a simple name")
    channels = data.get("channels") or []
    if not isinstance(channels, list) or not all(isinstance(c, str) and 0 < len(c) < 500 for c in channels):
        raise InvalidPackage(f"{filename}: 'channels' must be a list of channel names")
    deps = data.get("dependencies")
    if not isinstance(deps, list) or not deps:
        raise InvalidPackage(f"{filename}: 'dependencies' must be a non-empty list")
    if len(deps) > MAX_ITEMS:
        raise InvalidPackage(f"{filename}: too many dependencies")
    conda, pip = [], []
    for dep in deps:
        if isinstance(dep, str):
            if not SPEC_RE.fullmatch(dep):
                raise InvalidPackage(f"{filename}: invalid dependency {dep[:80]!r}")
            conda.append(dep)
        elif isinstance(dep, dict) and list(dep) == ["pip"] and isinstance(dep["pip"], list):
            for item in dep["pip"]:
                if not isinstance(item, str) or not 0 < len(item) < 500:
                    raise InvalidPackage(f"{filename}: invalid pip requirement")
                pip.append(item)
        else:
            raise InvalidPackage(f"{filename}: dependencies are strings or a 'pip:' list")
    variables = data.get("variables") or {}
    if not isinstance(variables, dict) or not all(isinstance(k, str) for k in variables):
        raise InvalidPackage(f"{filename}: 'variables' must be a mapping")
    return {"name": name, "channels": channels, "conda": conda, "pip": pip}


class EnvironmentType(PackageType):
    name = "env"
    title = "Environment"
    detect_priority = 45
    page_template = "anarepo.package_types.env:templates/page.jinja2"

    def detect(self, filename, path) -> bool:
        if not filename.lower().endswith((".yml", ".yaml")):
            return False
        try:
            head = read_bounded(path, MAX_ENV, "the environment file").decode("utf-8", "replace")
        except BudgetExceeded:
            raise  # a bomb is refused, not taken for another type
        except InvalidPackage:
            return False
        return re.search(r"^dependencies\s*:", head, re.M) is not None

    def inspect(self, path, filename, name=None, version=None) -> FileInfo:
        raw = read_bounded(path, MAX_ENV, "the environment file")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidPackage(f"{filename}: environment files are UTF-8 text") from None
        env = parse_environment(text, filename)
        env_name = name or env["name"] or stem(filename, ".yml", ".yaml")
        return FileInfo(
            name=env_name,
            version=version or timestamp_version(),
            basename=filename,
            summary=f"Environment {env_name}: {len(env['conda'])} conda and {len(env['pip'])} pip packages",
            attrs={"channels": env["channels"], "dependencies": env["conda"], "pip": env["pip"]},
        )

    def check_placement(self, info, package_name, version, basename) -> None:
        if "/" in basename or not basename.lower().endswith((".yml", ".yaml")):
            raise InvalidPackage(f"environment file names end in .yml or .yaml ({basename!r})")

    def add_cli_commands(self, subparsers, command) -> None:
        from .client import add_commands

        add_commands(subparsers)  # a client command: runs against a server over HTTP

    def install_hints(self, request, package, label="main"):
        return [
            ("conda", f"conda env create {package.full_name}"),
            ("anarepo", f"anarepo env create {package.full_name}"),
        ]

    def page_context(self, request, package) -> dict:
        newest = None
        for dist in package.distributions():
            if dist.type == "env" and (newest is None or dist.upload_time > newest.upload_time):
                newest = dist
        if newest is None:
            return {"env": None}
        raw_url = request.resource_url(newest.release, "download", newest.basename)
        with newest.blob.open("r") as f:
            text = f.read(MAX_ENV).decode("utf-8", "replace")
        return {"env": newest, "text": text, "raw_url": raw_url}


def includeme(config):
    config.add_package_type(EnvironmentType())
