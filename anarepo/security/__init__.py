"""Security wiring: the policy, signed-cookie sessions, CSRF and the default permission."""
from __future__ import annotations

from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.session import JSONSerializer, SignedCookieSessionFactory
from pyramid.settings import asbool

from ..middleware import TOKEN_ENV
from . import passwords
from .permissions import P
from .policy import AnarepoSecurityPolicy, request_face

SESSION_MAX_AGE = 14 * 24 * 3600


def csrf_applies(request) -> bool:
    """CSRF protects cookie sessions: web-face requests without explicit credentials.

    API, conda and PyPI faces never read the session cookie, and a request that
    carries a token in its path or Authorization header is not riding on
    ambient browser credentials.
    """
    if request_face(request) != "web":
        return False
    return not (request.environ.get(TOKEN_ENV) or request.authorization)


def includeme(config):
    settings = config.registry.settings
    passwords.configure(settings.get("anarepo.argon2.time_cost"), settings.get("anarepo.argon2.memory_cost"))
    config.set_security_policy(AnarepoSecurityPolicy())
    config.set_default_permission(P.VIEW)
    secret = settings["anarepo.secret"]
    config.set_session_factory(
        SignedCookieSessionFactory(
            secret,
            cookie_name="anarepo_session",
            secure=asbool(settings.get("anarepo.secure_cookies", False)),
            httponly=True,
            samesite="Lax",
            max_age=SESSION_MAX_AGE,
            timeout=SESSION_MAX_AGE,
            reissue_time=3600,
            serializer=JSONSerializer(),
        )
    )
    config.set_csrf_storage_policy(SessionCSRFStoragePolicy())
    config.set_default_csrf_options(require_csrf=True, callback=csrf_applies)
    config.include(".headers")
