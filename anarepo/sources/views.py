"""Managing sources over HTTP: the API (``/api/sources/<owner>[/<name>[/sync]]``) and
the web page ``/<owner>/mirrors``.

Both sit on traversal contexts whose ACL is the owner's, with ``permission=manage``
declared on every view: the owner's admins (a user, an organization's owners,
its admin groups, site admins) manage sources; the policy answers 401/403/404
for everyone else as on every face.  Secrets go in, never out.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.view import view_config

from ..db import ROOT_KEY
from ..resources.owners import Owner
from ..security.permissions import P
from .model import SourceError

WRITE_OPTIONS = ("mode", "label", "subdirs", "filters", "remove_missing", "ttl", "allow_hosts", "merge_local")


# -- traversal: /api/sources/<owner>/<name> -------------------------------------------
class OwnerSources:
    """The sources of one owner; its ACL is the owner's."""

    def __init__(self, request, owner):
        self.request = request
        self.owner = owner
        self.owner_login = owner.login  # for organization-restricted tokens
        self.__name__, self.__parent__ = owner.login, None

    def __acl__(self):
        return self.owner.__acl__()

    def __getitem__(self, name):
        source = self.owner.sources.get(name.lower())
        if source is None:
            raise KeyError(name)
        return SourceContext(self, source)


class SourceContext:
    def __init__(self, parent, source):
        self.__parent__, self.__name__ = parent, source.name
        self.owner, self.source = parent.owner, source
        self.owner_login = parent.owner_login

    def __acl__(self):
        return self.owner.__acl__()


def sources_factory(request):
    from pyramid_zodbconn import get_connection

    owner = get_connection(request).root()[ROOT_KEY].get_owner(request.matchdict["owner"])
    if owner is None:
        raise HTTPNotFound(f"user {request.matchdict['owner']!r} not found")
    return OwnerSources(request, owner)


def _body(request) -> dict:
    from ..views.api.base import json_body

    return json_body(request)


def _options(body: dict) -> dict:
    return {k: body[k] for k in WRITE_OPTIONS if k in body}


@view_config(route_name="api.sources", context=OwnerSources, request_method="GET", renderer="json",
             permission=P.MANAGE)
def api_list(context, request):
    return {"owner": context.owner.login, "sources": [s.describe() for s in context.owner.sources.values()]}


@view_config(route_name="api.sources", context=OwnerSources, request_method="POST", renderer="json",
             permission=P.MANAGE)
def api_add(context, request):
    from .service import add_source

    body = _body(request)
    for key in ("name", "kind", "url"):
        if not isinstance(body.get(key), str):
            raise SourceError(f"give {key!r}")
    auth = body.get("auth") or {}
    if not isinstance(auth, dict):
        raise SourceError("auth must be an object: {kind, secret, user}")
    source = add_source(context.owner, body["name"], body["kind"], body["url"], auth=auth.get("kind", "none"),
                        secret=auth.get("secret") or "", user=auth.get("user") or "", registry=request.registry,
                        **_options(body))
    request.response.status = 201
    return source.describe()


@view_config(route_name="api.sources", context=OwnerSources, request_method="PATCH", renderer="json",
             permission=P.MANAGE)
def api_label_filters(context, request):
    """``{"label", "kind", "filters"}``: filters every source of that kind feeding the label obeys."""
    from .service import set_label_filters

    body = _body(request)
    if not isinstance(body.get("label"), str) or not isinstance(body.get("kind"), str):
        raise SourceError("give 'label', 'kind' and 'filters'")
    filters = body.get("filters") or {}
    return {"label": body["label"], "source_filters": set_label_filters(context.owner, body["label"], body["kind"],
                                                                        filters)}


@view_config(route_name="api.sources", context=SourceContext, request_method="GET", renderer="json",
             permission=P.MANAGE)
def api_show(context, request):
    described = context.source.describe()
    described["history"] = [dict(run) for run in context.source.history]
    return described


@view_config(route_name="api.sources", context=SourceContext, request_method="PATCH", renderer="json",
             permission=P.MANAGE)
def api_change(context, request):
    from .service import change_source

    body = _body(request)
    change_source(context.source, request.registry, **_options(body))
    if isinstance(body.get("auth"), dict):
        auth = body["auth"]
        context.source.set_auth(auth.get("kind", "none"), auth.get("secret") or "", auth.get("user") or "")
    return context.source.describe()


@view_config(route_name="api.sources", context=SourceContext, request_method="DELETE", renderer="json",
             permission=P.MANAGE)
def api_remove(context, request):
    from .service import remove_source

    remove_source(context.owner, context.source.name)
    return {"removed": context.source.name}


#: whole syncs running inside requests at once, per process (``anarepo.sources.max_syncs``):
#: one may last as long as its upstream trickles; the schedule runs them from the CLI
MAX_SYNCS = 1


def sync_in_request(request, owner_login: str, name: str) -> dict:
    """A sync run by a request (API, web page), or 503 when the others hold every slot."""
    from pyramid.httpexceptions import HTTPServiceUnavailable

    from .sync import sync

    slots = request.registry.anarepo_sync_slots
    if not slots.acquire(blocking=False):
        raise HTTPServiceUnavailable("another sync is running on this server; retry later"
                                     " (or run `anarepo mirror sync` from the command line)",
                                     headers={"Retry-After": "30"})
    try:
        return sync(request.registry, owner_login, name)
    finally:
        slots.release()


@view_config(route_name="api.sources", context=SourceContext, name="sync", request_method="POST", renderer="json",
             permission=P.MANAGE)
def api_sync(context, request):
    """Run one sync now (mirror: copy; proxy: refresh every listing) and answer its record."""
    return sync_in_request(request, context.owner.login, context.source.name)


def source_error(exc, request):
    from ..views.helpers import face_error

    return face_error(request, 400, str(exc))


# -- web: /<owner>/mirrors --------------------------------------------------------------
def _add_from_form(owner, post, registry) -> str:
    from .filters import parse_filters
    from .service import add_source

    subdirs = [s for s in post.get("subdirs", "").replace(",", " ").split() if s]
    filters = parse_filters(line for line in post.get("filters", "").splitlines() if line.strip())
    source = add_source(owner, post.get("name", ""), post.get("kind", ""), post.get("url", "").strip(),
                        registry=registry, mode=post.get("mode", "mirror"), label=post.get("label", "main") or "main",
                        subdirs=subdirs, filters=filters, remove_missing=bool(post.get("remove_missing")),
                        merge_local=bool(post.get("merge_local")),
                        auth=post.get("auth", "none"), secret=post.get("secret", ""), user=post.get("user", ""))
    return f"Added {source.kind} {source.mode} {source.name}."


@view_config(context=Owner, name="mirrors", renderer="anarepo:templates/sources/mirrors.jinja2",
             permission=P.MANAGE)
def mirrors_page(request):
    from ..names import InvalidName
    from ..views.helpers import form_error_status
    from .service import remove_source

    owner = request.context
    values = {"owner": owner, "error": None}
    if request.method == "POST":
        action, name = request.POST.get("action", ""), request.POST.get("source", "")
        try:
            if action == "sync":
                if name not in owner.sources:
                    raise SourceError(f"no source named {name!r}")
                run = sync_in_request(request, owner.login, name)
                message = (f"Synced {name}: added {run['added']}, removed {run['removed']},"
                           f" failed {run['failed']}.")
            elif action == "remove":
                remove_source(owner, name)
                message = f"Removed source {name}; its packages stay."
            elif action == "add":
                message = _add_from_form(owner, request.POST, request.registry)
            else:
                raise SourceError(f"unknown action {action!r}")
        except (SourceError, InvalidName) as exc:
            request.response.status = form_error_status(exc) if not isinstance(exc, SourceError) else 400
            values["error"] = str(exc)
            values["sources"] = _described(owner)
            return values
        request.session.flash(message)
        return HTTPFound(location=request.resource_url(owner, "mirrors"))
    values["sources"] = _described(owner)
    return values


def _described(owner) -> list[dict]:
    out = []
    for source in owner.sources.values():
        label = owner.labels.get(source.label)
        out.append(source.describe() | {
            "history": list(source.history)[-10:],
            "label_filters": label.source_filters.get(source.kind, {}) if label is not None else {}})
    return out


def includeme(config):
    import threading

    config.registry.anarepo_sync_slots = threading.BoundedSemaphore(
        int(config.registry.settings.get("anarepo.sources.max_syncs", MAX_SYNCS)))
    config.add_route("api.sources", "/api/sources/{owner}*traverse", factory=sources_factory)
    config.add_exception_view(source_error, context=SourceError)
    config.scan(__name__)
