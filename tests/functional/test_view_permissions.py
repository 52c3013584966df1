"""Every view declares its permission, or is on docs/security.md's list of views without one.

The list is read from the document itself, so the code and the security rules
cannot drift apart: a new view without ``permission=`` (or with
``NO_PERMISSION_REQUIRED``) fails here until it is declared or documented with
its reason, and a documented entry that no longer names such a view fails too.
"""
from __future__ import annotations

import pathlib
import re

from pyramid.security import NO_PERMISSION_REQUIRED

from anarepo import main
from anarepo.testing import AppHarness, make_settings

SECURITY_DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "security.md"
SECTION = "## Declared permissions, and the views without one"


def documented_views() -> set[str]:
    """The ``module:callable`` names in the table of the security document's section."""
    text = SECURITY_DOC.read_text()
    section = text[text.index(SECTION):]
    following = section.find("\n## ", len(SECTION))
    if following != -1:
        section = section[:following]
    return set(re.findall(r"^\| `([\w.]+:\w+)` \|", section, flags=re.MULTILINE))


def view_name(view) -> str:
    target = getattr(view, "__wrapped__", view)
    name = getattr(target, "__name__", None) or type(target).__name__
    return f"{target.__module__}:{name}"


def views_without_permission(registry) -> dict[str, list[str]]:
    """Every registered (non exception-only) view whose permission is absent or
    ``NO_PERMISSION_REQUIRED``, with where it is registered."""
    introspector = registry.introspector
    found: dict[str, list[str]] = {}
    for entry in introspector.get_category("views"):
        view = entry["introspectable"]
        if view["exception_only"]:
            continue
        permissions = [r["value"] for r in introspector.related(view) if r.category_name == "permissions"]
        permission = permissions[0] if permissions else None
        if permission is None or permission == NO_PERMISSION_REQUIRED:
            where = f"route={view['route_name']} context={view['context']} name={view['name']!r}"
            found.setdefault(view_name(view["callable"]), []).append(where)
    return found


def test_every_view_declares_a_permission_or_is_documented(app):
    undeclared = views_without_permission(app.registry)
    documented = documented_views()
    assert len(documented) >= 10, "the table in docs/security.md was not found"
    missing = {name: where for name, where in undeclared.items() if name not in documented}
    assert not missing, f"views without a declared permission, not in docs/security.md: {missing}"
    stale = documented - set(undeclared)
    assert not stale, f"docs/security.md lists views that declare a permission or do not exist: {stale}"


def undeclared_demo_view(request):
    return request.response


def add_undeclared_view(config):
    """An include that adds a view without ``permission=``, as a careless plugin would."""
    config.add_route("demo.undeclared", "/demo-undeclared")
    config.add_view(undeclared_demo_view, route_name="demo.undeclared")


def test_a_view_added_without_a_permission_is_caught(tmp_path):
    settings = make_settings(tmp_path, **{"pyramid.includes": f"{__name__}:add_undeclared_view"})
    harness = AppHarness(main({}, **settings))
    try:
        undeclared = views_without_permission(harness.registry)
    finally:
        harness.close()
    assert f"{__name__}:undeclared_demo_view" in undeclared
    assert f"{__name__}:undeclared_demo_view" not in documented_views()
