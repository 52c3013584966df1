"""The core decides nothing by a built-in plugin's name (issue 16).

Every string constant of the core (``anarepo/`` outside ``anarepo/package_types/``)
that equals the name, an alias or a mount of a registered package type or face,
or holds a face's mount as a path segment (``f"{base}/conda"``), is flagged,
docstrings aside, and so is such a quoted name inside a template's
``{% %}``/``{{ }}`` tags.  What is left is listed below with the reason it is
not a decision about a plugin (a form field called ``file``, a file mode ``"r"``,
a protocol's own list).  A new literal fails this test: ask the type or the face
(``PackageType`` attributes, ``config.add_face``) instead, or add it here with a
reason if it truly names no plugin.
"""
from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "anarepo"
PLUGINS = CORE / "package_types"  # the plugins themselves, registering by name

#: (file, enclosing function or class, literal) -> why it is not a decision about a plugin
ALLOWED = {
    # form fields and multipart parts called "file" (HTML forms, the anaconda.org upload API)
    ("anarepo/views/package_files.py", "files_action", "file"): "form field name",
    ("anarepo/views/package_files.py", "_yank", "file"): "form field name",
    ("anarepo/views/owner_files.py", "selected_files", "file"): "form field name",
    ("anarepo/views/owner_files.py", "delete_files", "file"): "form field name",
    ("anarepo/views/labels.py", "_apply", "file"): "form field name",
    ("anarepo/views/upload.py", "upload", "file"): "form field name",
    ("anarepo/views/api/upload.py", "s3_upload", "file"): "multipart part name of the anaconda.org API",
    # words that happen to be a type name
    ("anarepo/http/replay.py", "Entry", "file"): "__slots__ entry",
    ("anarepo/deploy/xaccel.py", "_blob_path", "file"): "attribute of a WSGI file wrapper",
    ("anarepo/cli.py", "cmd_reindex", "file"): "tqdm's progress unit",
    # anaconda-client's own enum of package types (a protocol, not our plugins)
    ("anarepo/plugins/__init__.py", "<module>", "conda"): "anaconda-client's package type enum",
    ("anarepo/plugins/__init__.py", "<module>", "env"): "anaconda-client's package type enum",
    ("anarepo/plugins/__init__.py", "<module>", "file"): "anaconda-client's package type enum",
    ("anarepo/plugins/__init__.py", "<module>", "ipynb"): "anaconda-client's package type enum",
    ("anarepo/plugins/__init__.py", "<module>", "pypi"): "anaconda-client's package type enum",
    ("anarepo/plugins/__init__.py", "<module>", "r"): "anaconda-client's package type enum",
    ("anarepo/plugins/__init__.py", "<module>", "project"): "anaconda-client's package type enum",
    # "conda" the version order (conda's VersionOrder), which types choose by name
    ("anarepo/versions.py", "<module>", "conda"): "the name of conda's version order (a scheme)",
}

#: the mirror engine reads conda channels and PyPI indexes by their protocols; its
#: move onto the plugins is the "mirrors" work (docs/plugins.md, import contracts)
SKIPPED = (CORE / "sources", CORE / "templates" / "sources")


@functools.lru_cache(maxsize=1)
def plugin_mounts() -> frozenset[str]:
    from anarepo.plugins import standalone_registry

    return frozenset(f.mount for f in standalone_registry().anarepo_faces.by_name.values() if f.mount)


@functools.lru_cache(maxsize=1)
def plugin_names() -> frozenset[str]:
    from anarepo.plugins import standalone_registry

    registry = standalone_registry()
    names = set()
    for ptype in registry.package_types.values():
        names |= {ptype.name, *ptype.aliases}
    for face in registry.anarepo_faces.by_name.values():
        names |= {face.name, face.mount} - {None}
    return frozenset(n for n in names if n)


def _core_files(suffix: str):
    for path in sorted(CORE.rglob(f"*{suffix}")):
        if PLUGINS in path.parents or any(skip == path or skip in path.parents for skip in SKIPPED):
            continue
        yield path


def _docstrings(tree) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _file_modes(tree) -> set[int]:
    """``open(..., "r")`` and ``blob.open("r")``: a mode, not the R type."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "open":
                ids |= {id(a) for a in [*node.args, *(k.value for k in node.keywords)]}
    return ids


def python_literals(names, mounts=frozenset()):
    """(file, enclosing def or class, literal, line) of every suspicious constant."""
    segment = re.compile(r"(?<![\w.-])/(%s)(?=/|$|[\"'?#{])" % "|".join(map(re.escape, sorted(mounts)))) \
        if mounts else None
    for path in _core_files(".py"):
        tree = ast.parse(path.read_text(), str(path))
        skip = _docstrings(tree) | _file_modes(tree)
        scopes = []

        def visit(node, scope):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                scope = node.name
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                if node.value in names:
                    scopes.append((str(path.relative_to(ROOT)), scope, node.value, node.lineno))
                elif segment is not None and segment.search(node.value):
                    scopes.append((str(path.relative_to(ROOT)), scope, segment.search(node.value).group(), node.lineno))
            for child in ast.iter_child_nodes(node):
                visit(child, scope)

        visit(tree, "<module>")
        yield from scopes


TAG = re.compile(r"\{[{%].*?[%}]\}", re.S)


def template_literals(names: set[str]):
    quoted = re.compile(r"""(['"])(%s)\1""" % "|".join(map(re.escape, sorted(names))))
    for path in _core_files(".jinja2"):
        text = path.read_text()
        for tag in TAG.finditer(text):
            for match in quoted.finditer(tag.group()):
                line = text.count("\n", 0, tag.start()) + 1
                yield (str(path.relative_to(ROOT)), "<template>", match.group(2), line)


def test_the_core_names_no_plugin():
    names = plugin_names()
    assert {"conda", "pypi", "r", "file", "project"} <= names  # the scan looks for the right things
    found = [*python_literals(names, plugin_mounts()), *template_literals(names)]
    unexplained = [f"{path}:{line} {literal!r} (in {scope})" for path, scope, literal, line in found
                   if (path, scope, literal) not in ALLOWED]
    assert not unexplained, (
        "the core names a plugin; ask the PackageType or the face instead (or explain it in ALLOWED):\n  "
        + "\n  ".join(unexplained))


def test_every_allowance_is_still_needed():
    """An allowance whose literal is gone is removed, so the list stays the truth."""
    names = plugin_names()
    found = [*python_literals(names, plugin_mounts()), *template_literals(names)]
    seen = {(path, scope, literal) for path, scope, literal, _ in found}
    assert sorted(set(ALLOWED) - seen) == []


@pytest.mark.parametrize("source,flagged", [
    ('if ptype.name == "file":\n    pass\n', True),
    ('KIND = ("conda", "pypi")\n', True),
    ('def f():\n    """Serves /conda and "pypi" pages."""\n', False),
    ('with blob.open("r") as f:\n    pass\n', False),
    ('url = f"{base}/conda"\n', True),
    ('url = "/conda/t/" + token\n', True),
    ('url = f"{base}/condaish/x"\n', False),
])
def test_the_scan_flags_decisions_not_prose(tmp_path, monkeypatch, source, flagged):
    core = tmp_path / "anarepo"
    core.mkdir()
    (core / "mod.py").write_text(source)
    import tests.unit.test_no_plugin_names_in_core as scan

    monkeypatch.setattr(scan, "ROOT", tmp_path)
    monkeypatch.setattr(scan, "CORE", core)
    monkeypatch.setattr(scan, "PLUGINS", core / "package_types")
    monkeypatch.setattr(scan, "SKIPPED", ())
    assert bool(list(scan.python_literals({"conda", "pypi", "r", "file"}, {"conda", "pypi", "r"}))) == flagged
