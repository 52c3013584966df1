"""The ``conda`` package type: .tar.bz2 and .conda packages, and the conda channel face."""
from __future__ import annotations

from ...plugins import PackageType


class CondaType(PackageType):
    name = "conda"
    title = "Conda"
    detect_priority = 10


def includeme(config):
    config.add_package_type(CondaType())
