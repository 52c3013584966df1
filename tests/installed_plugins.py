"""Third-party plugins as pip leaves them: a package and its ``.dist-info`` with an
entry point in the ``anarepo.package_types`` group, on ``sys.path`` for the test only."""
from __future__ import annotations

import importlib
import sys
import textwrap
from contextlib import contextmanager


def install_distribution(site, module: str, source: str, entry_point: str):
    """Write ``module`` (a package holding ``source``) and its ``.dist-info`` (METADATA,
    entry_points.txt, RECORD, INSTALLER) into ``site`` and put ``site`` first on
    ``sys.path``; run inside :func:`plugins_installed`, which takes it off again."""
    package = site / module
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(source))
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[anarepo.package_types]\n{entry_point} = {module}:includeme\n")
    (info / "RECORD").write_text(f"{module}/__init__.py,,\n{info.name}/METADATA,,\n{info.name}/entry_points.txt,,\n"
                                 f"{info.name}/RECORD,,\n")
    (info / "INSTALLER").write_text("test\n")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    return site


@contextmanager
def plugins_installed(*modules: str):
    """``sys.path`` and the imported ``modules`` as they were before, afterwards."""
    before = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = before
        for name in modules:
            sys.modules.pop(name, None)
        importlib.invalidate_caches()
