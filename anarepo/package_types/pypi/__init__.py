"""The ``pypi`` package type: wheels and sdists, and the PyPI simple index face."""
from __future__ import annotations

from ...plugins import PackageType


class PypiType(PackageType):
    name = "pypi"
    title = "Standard Python"
    aliases = ("PyPI", "standard_python")
    detect_priority = 20


def includeme(config):
    config.add_package_type(PypiType())
