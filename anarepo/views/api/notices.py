"""Channel notices: ``/{owner}/notices[/{id}[/publish|/archive]]`` (``anaconda channel notice``).

Everyone may list an owner's published notices; whoever may manage the owner
sees drafts and archived ones too and changes them.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest

from ...services import notices
from ...clock import isoformat
from ...security.permissions import P
from ...resources.owners import Owner
from .base import api_view, empty, json_body


def notice_json(notice) -> dict:
    return {
        "id": notice.id,
        "message": notice.message,
        "level": notice.level,
        "status": notice.status,
        "expires_at": isoformat(notice.expires_at),
        "created_at": isoformat(notice.created_at),
        "updated_at": isoformat(notice.updated_at),
    }


def _int(request, name, default, top):
    try:
        value = int(request.params.get(name, default))
    except ValueError:
        raise HTTPBadRequest(f"{name} must be a number") from None
    return max(0, min(value, top))


@api_view("api.notices", "GET", P.VIEW, context=Owner)
def list_notices(context, request):
    owner = context
    manager = request.has_permission(P.MANAGE, owner)
    status = request.params.get("status")
    items = [n for n in notices.notices_of(owner).values() if manager or n.is_active()]
    if status:
        items = [n for n in items if n.status == status]
    items.sort(key=lambda n: n.created_at, reverse=True)
    offset, limit = _int(request, "offset", 0, 1 << 30), _int(request, "limit", 20, 100)
    return {"items": [notice_json(n) for n in items[offset:offset + limit]], "total_count": len(items)}


@api_view("api.notices", "POST", P.MANAGE, context=Owner)
def create_notice(context, request):
    owner = context
    body = json_body(request, required=True)
    notice = notices.create_notice(owner, body.get("message"), body.get("level") or "info",
                                   body.get("expires_at"), author=request.identity.login)
    request.response.status = 201
    return notice_json(notice)


@api_view("api.notice", "GET", P.VIEW, context=Owner)
def get_notice(context, request):
    owner = context
    notice = notices.get_notice(owner, request.matchdict["id"])
    if not notice.is_active() and not request.has_permission(P.MANAGE, owner):
        raise notices.NotFound(f"notice {notice.id} not found")
    return notice_json(notice)


@api_view("api.notice", "PATCH", P.MANAGE, context=Owner)
def update_notice(context, request):
    owner = context
    notice = notices.get_notice(owner, request.matchdict["id"])
    body = json_body(request, required=True)
    changes = {k: body[k] for k in ("message", "level", "status", "expires_at") if k in body}
    notices.update_notice(notice, **changes)
    return notice_json(notice)


@api_view("api.notice", "DELETE", P.MANAGE, context=Owner)
def delete_notice(context, request):
    owner = context
    notices.delete_notice(owner, notices.get_notice(owner, request.matchdict["id"]))
    return empty(204)


@api_view("api.notice_action", "POST", P.MANAGE, context=Owner)
def notice_action(context, request):
    owner = context
    notice = notices.get_notice(owner, request.matchdict["id"])
    status = {"publish": "published", "archive": "archived"}[request.matchdict["action"]]
    notices.update_notice(notice, status=status)
    return notice_json(notice)


def includeme(config):
    config.add_route("api.notices", "/api/{owner}/notices", traverse="/{owner}")
    config.add_route("api.notice", "/api/{owner}/notices/{id}", traverse="/{owner}")
    config.add_route("api.notice_action", "/api/{owner}/notices/{id}/{action:publish|archive}", traverse="/{owner}")
    config.scan(__name__)
