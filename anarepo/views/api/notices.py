"""Channel notices: ``/{owner}/notices[/{id}[/publish|/archive]]`` (``anaconda channel notice``).

Everyone may list an owner's published notices; whoever may manage the owner
sees drafts and archived ones too and changes them.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest

from ... import notices
from ...clock import isoformat
from ...security.permissions import P
from .base import api_view, empty, find_owner, json_body, require, require_user


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


def _owner(request, manage: bool):
    owner = find_owner(request, request.matchdict["owner"])
    if manage:
        require_user(request)
        require(request, P.MANAGE, owner)
    return owner


def _int(request, name, default, top):
    try:
        value = int(request.params.get(name, default))
    except ValueError:
        raise HTTPBadRequest(f"{name} must be a number") from None
    return max(0, min(value, top))


@api_view("api.notices", "GET")
def list_notices(request):
    owner = _owner(request, manage=False)
    manager = request.has_permission(P.MANAGE, owner)
    status = request.params.get("status")
    items = [n for n in notices.notices_of(owner).values() if manager or n.is_active()]
    if status:
        items = [n for n in items if n.status == status]
    items.sort(key=lambda n: n.created_at, reverse=True)
    offset, limit = _int(request, "offset", 0, 1 << 30), _int(request, "limit", 20, 100)
    return {"items": [notice_json(n) for n in items[offset:offset + limit]], "total_count": len(items)}


@api_view("api.notices", "POST")
def create_notice(request):
    owner = _owner(request, manage=True)
    body = json_body(request, required=True)
    notice = notices.create_notice(owner, body.get("message"), body.get("level") or "info",
                                   body.get("expires_at"), author=request.identity.login)
    request.response.status = 201
    return notice_json(notice)


@api_view("api.notice", "GET")
def get_notice(request):
    owner = _owner(request, manage=False)
    notice = notices.get_notice(owner, request.matchdict["id"])
    if not notice.is_active() and not request.has_permission(P.MANAGE, owner):
        raise notices.NotFound(f"notice {notice.id} not found")
    return notice_json(notice)


@api_view("api.notice", "PATCH")
def update_notice(request):
    owner = _owner(request, manage=True)
    notice = notices.get_notice(owner, request.matchdict["id"])
    body = json_body(request, required=True)
    changes = {k: body[k] for k in ("message", "level", "status", "expires_at") if k in body}
    notices.update_notice(notice, **changes)
    return notice_json(notice)


@api_view("api.notice", "DELETE")
def delete_notice(request):
    owner = _owner(request, manage=True)
    notices.delete_notice(owner, notices.get_notice(owner, request.matchdict["id"]))
    return empty(204)


@api_view("api.notice_action", "POST")
def notice_action(request):
    owner = _owner(request, manage=True)
    notice = notices.get_notice(owner, request.matchdict["id"])
    status = {"publish": "published", "archive": "archived"}[request.matchdict["action"]]
    notices.update_notice(notice, status=status)
    return notice_json(notice)


def includeme(config):
    config.add_route("api.notices", "/api/{owner}/notices")
    config.add_route("api.notice", "/api/{owner}/notices/{id}")
    config.add_route("api.notice_action", "/api/{owner}/notices/{id}/{action:publish|archive}")
    config.scan(__name__)
