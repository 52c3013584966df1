"""Response headers that keep a hostile upload from turning a page against its reader.

Every answer of the application gets ``X-Content-Type-Options: nosniff``,
``Referrer-Policy: same-origin`` and, unless a view set its own (the sandboxed
notebook and file downloads do), a strict Content-Security-Policy: scripts and
styles only from this origin, no inline script, no plugins, no framing by other
sites.  An answer that depended on credentials is ``Cache-Control: private`` so
that no shared cache hands it to someone else.
"""
from __future__ import annotations

from pyramid.events import NewResponse

from ..http.middleware import TOKEN_ENV

#: The site's policy; templates carry no inline script or style attribute.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SESSION_COOKIE = "anarepo_session"


def carried_credentials(request) -> bool:
    """Whether the answer may have depended on who asked (token, Authorization
    header or a session cookie); cheap, no database access."""
    return bool(
        request.environ.get(TOKEN_ENV)
        or request.headers.get("Authorization")
        or SESSION_COOKIE in request.cookies
    )


def private_cache_control(response) -> None:
    """Mark an answer private: ``public`` goes, the other directives stay as they are."""
    value = response.headers.get("Cache-Control", "")
    directives = [d.strip() for d in value.split(",") if d.strip()]
    lowered = [d.lower() for d in directives]
    if "private" in lowered or "no-store" in lowered:
        return
    kept = [d for d, low in zip(directives, lowered) if low != "public"]
    response.headers["Cache-Control"] = ", ".join(["private", *kept])


def add_security_headers(event: NewResponse) -> None:
    request, response = event.request, event.response
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = CSP
    if carried_credentials(request):
        private_cache_control(response)


def includeme(config):
    config.add_subscriber(add_security_headers, NewResponse)
