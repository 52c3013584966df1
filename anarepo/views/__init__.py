"""Views of every face.  Each module adds its routes and is scanned here.

Web pages are Jinja2 templates with autoescaping; the API answers JSON with
``{"error": ...}`` on failure; conda and PyPI faces are added by their plugins.
"""
from __future__ import annotations

import os

from pyramid.csrf import get_csrf_token
from pyramid.events import BeforeRender
from pyramid.security import NO_PERMISSION_REQUIRED

from ..http.middleware import ORIGINAL_SCRIPT_NAME
from ..plugins.faces import Scope
from ..security.permissions import P


#: The site's static files, by absolute path: an asset spec would go through
#: pkg_resources, which cannot read a package imported by a foreign loader (pytest's
#: assertion rewriter, a zip importer) and then answered 500 for every CSS/JS file.
STATIC_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "static")

def static_url(request, path: str) -> str:
    """Static assets never carry a path token (style pitfall 16)."""
    app_url = request.host_url + request.environ.get(ORIGINAL_SCRIPT_NAME, "")
    return request.static_url(f"{STATIC_DIR}/{path}", _app_url=app_url)


def add_template_globals(event: BeforeRender) -> None:
    request = event.get("request")
    if request is None:
        return
    if "identity" not in (event.rendering_val or {}):  # a failure page gives None: the database may have failed
        event.setdefault("identity", request.identity)
    event.setdefault("csrf_token", get_csrf_token(request))
    event.setdefault("site_name", request.registry.settings["anarepo.site_name"])
    event.setdefault("static", lambda path: static_url(request, path))
    event.setdefault("P", P)
    settings = request.registry.settings
    event.setdefault("allow_signup", settings["anarepo.allow_signup"] and settings["anarepo.allow_local_passwords"])
    event.setdefault("flash", request.session.pop_flash())
    event.setdefault("acting_owner", lambda: _acting_owner(request))
    event.setdefault("type_title", lambda name: type_title(request.registry, name))
    event.setdefault("type_lists", lambda: [(t.list_path, t.list_title or t.title)
                                            for t in request.registry.package_types.ordered() if t.list_path])
    event.setdefault("type_titles", lambda package: [type_title(request.registry, n) for n in package.package_types])


def type_title(registry, name: str) -> str:
    """A type as people read it: its plugin's title ("Notebook", not ``ipynb``)."""
    return getattr(registry.package_types.get(name), "title", "") or name


def favicon(request):
    """Browsers ask ``/favicon.ico`` on every site whatever the page links: answer it."""
    from pyramid.response import FileResponse

    response = FileResponse(os.path.join(STATIC_DIR, "favicon.ico"), request=request, content_type="image/x-icon")
    response.cache_control.max_age = 86400
    response.cache_control.public = True
    return response


def _acting_owner(request):
    from .orgs import acting_owner

    return acting_owner(request)


def includeme(config):
    # the default face: pages for people, the only one that reads the session cookie
    # (so CSRF protects its forms and a refused anonymous GET goes to the login page)
    config.add_face("web", mount=None, error_format="html", sessions=True, title="web pages",
                    scopes={"repos": Scope(grants={"web": (P.VIEW,)})})
    config.add_static_view("static", STATIC_DIR, cache_max_age=3600)
    config.add_route("favicon", "/favicon.ico")
    config.add_view(favicon, route_name="favicon", request_method=("GET", "HEAD"), permission=NO_PERMISSION_REQUIRED)
    config.add_subscriber(add_template_globals, BeforeRender)
    config.include(".errors")
    config.include(".failures")
    config.include(".auth")
    config.include(".oidc")
    config.include(".account")
    config.include(".two_factor")
    config.include(".signin_oidc")
    config.include(".pages")
    config.include(".files")
    config.include(".dashboard")
    config.include(".orgs")
    config.include(".package_settings")
    config.include(".packages")
    config.include(".owner_files")
    config.include(".package_files")
    config.include(".labels")
    config.include(".upload")
    config.include(".search")
    config.include(".api")
