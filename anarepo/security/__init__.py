"""Security wiring: the policy, signed-cookie sessions, CSRF and the default permission."""
from __future__ import annotations

from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.session import JSONSerializer, SignedCookieSessionFactory
from pyramid.settings import asbool

from . import passwords
from .permissions import P
from ..plugins.faces import face_of
from .policy import AnarepoSecurityPolicy, bad_credential, token_identity

SESSION_MAX_AGE = 14 * 24 * 3600


def csrf_applies(request) -> bool:
    """CSRF protects cookie sessions: requests to a face with sessions (the web)
    not authenticated by a token.

    Other faces never read the session cookie.  On the web face
    only a *valid* token (path or Authorization header) exempts a request: a
    bogus header, or user/password Basic, must not switch the check off while
    the session cookie rides along.
    """
    if not face_of(request).sessions:
        return False
    return token_identity(request) is None


def includeme(config):
    settings = config.registry.settings
    passwords.configure(settings.get("anarepo.argon2.time_cost"), settings.get("anarepo.argon2.memory_cost"))
    config.set_security_policy(AnarepoSecurityPolicy())
    config.add_request_method(bad_credential, "bad_credential", property=True)
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
    config.include(".throttle")
    config.include(".external")
    config.include(".directory")
    config.include(".upstream_oidc")
    config.include(".oidc_provider")
