"""Access tokens: random ``[A-Za-z0-9-]`` strings stored only as sha256 digests.

The alphabet is conda's (``/t/([a-zA-Z0-9-]*)``) and the anaconda CLI's (no ``.``,
``/`` or ``\\``).  A token belongs to a user; an org token is restricted to that
organization's namespace.  Names are unique per owner, as on anaconda.org.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from datetime import timedelta

from ..clock import utcnow
from ..resources.tokens import Token
from .permissions import check_scopes

ALPHABET = string.ascii_letters + string.digits
TOKEN_RE = re.compile(r"^[A-Za-z0-9-]{16,128}$")
TOKEN_PREFIX = "ar-"
MAX_TOKEN_NAME = 200
MAX_AGE_LIMIT = 10 * 365 * 24 * 3600


class TokenError(ValueError):
    pass


class TokenExists(TokenError):
    pass


def generate_token() -> str:
    return TOKEN_PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(40))


def secret_digest(raw: str) -> str:
    """What is stored of a secret shown once or held by a client (API tokens, upload
    ids, authorization codes, refresh tokens, recovery codes): its sha256.  They are
    long random strings, so a fast hash is enough."""
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()


def check_token_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise TokenError("a token needs a name")
    name = name.strip()
    if len(name) > MAX_TOKEN_NAME or "/" in name or any(ord(c) < 32 for c in name):
        raise TokenError(f"invalid token name {name!r}")
    return name


def create_token(root, user, name, scopes=None, max_age=None, org=None, replace=False, *, known_scopes, **info):
    """Make a token for ``user`` (restricted to ``org`` if given); return (raw, Token).

    ``known_scopes`` is the registry's scope table
    (:func:`anarepo.security.permissions.scope_table`): the faces declare them.

    ``replace`` drops an existing token of the same name first (anaconda login
    re-using its note), otherwise a duplicate name is :class:`TokenExists`.
    """
    name = check_token_name(name)
    scopes = check_scopes(scopes, known_scopes)
    expires = None
    if max_age is not None:
        if isinstance(max_age, bool) or not isinstance(max_age, int) or not 0 < max_age <= MAX_AGE_LIMIT:
            raise TokenError("max-age must be a positive number of seconds (at most ten years)")
        expires = utcnow() + timedelta(seconds=max_age)
    owner = root.owners[org] if org else user
    if name in owner.token_names:
        if not replace:
            raise TokenExists(f"a token named {name!r} exists already")
        revoke_token(root, root.tokens[owner.token_names[name]])
    raw = generate_token()
    digest = secret_digest(raw)
    token = Token(digest, user.login, name, scopes, expires=expires, org=org, **info)
    root.tokens.add(digest, token)
    owner.token_names.add(name, digest)
    return raw, token


def lookup_token(root, raw: str):
    """Return ``(token, None)`` or ``(None, reason)``; constant-time on the digest."""
    if not isinstance(raw, str) or not TOKEN_RE.fullmatch(raw):
        return None, "invalid token"
    digest = secret_digest(raw)
    token = root.tokens.get(digest)
    if token is None or not hmac.compare_digest(token.digest, digest):
        return None, "invalid or revoked token"
    if token.is_expired():
        return None, "expired token"
    user = root.owners.get(token.user)
    if user is None or getattr(user, "disabled", False):
        return None, "invalid token"
    if token.org and root.owners.get(token.org) is None:
        return None, "invalid token"
    return token, None


def revoke_token(root, token) -> None:
    root.tokens.remove(token.digest)
    owner = root.owners.get(token.owner_login)
    if owner is not None and owner.token_names.get(token.name) == token.digest:
        owner.token_names.remove(token.name)


def tokens_of(root, owner):
    """The tokens registered under an owner, by name."""
    for name, digest in owner.token_names.items():
        token = root.tokens.get(digest)
        if token is not None:
            yield token
