"""Creating and authenticating accounts (used by the web, the API and the CLI)."""
from __future__ import annotations

from .. import names
from ..errors import Conflict, NotFound
from ..resources.owners import Organization, User
from ..security.passwords import set_password, verify_password

#: verified against when the login is unknown, so both cases cost the same time
_DUMMY_HASH = None


def create_user(root, login: str, email: str, password: str | None, is_admin: bool = False, *,
                reserved) -> User:
    """``reserved``: the application's reserved owner names (``names.reserved_owner_names``)."""
    login = names.check_owner_name(login, reserved)
    email = names.check_email(email)
    if login in root.owners:
        raise Conflict(f"the name {login!r} is taken")
    user = User(login, email)
    if password is not None:
        set_password(user, password)
    user.is_admin = bool(is_admin)
    root.owners.add(login, user)
    return user


def create_organization(root, login: str, email: str, creator: User, *, reserved) -> Organization:
    login = names.check_owner_name(login, reserved)
    email = names.check_email(email)
    if login in root.owners:
        raise Conflict(f"the name {login!r} is taken")
    org = Organization(login, email)
    org.owners.add(creator.login)
    root.owners.add(login, org)
    creator.organizations.add(login)
    return org


def find_user(root, login: str) -> User:
    """The user (not organization) named ``login``, or NotFound."""
    user = root.get_owner(login or "")
    if user is None or user.kind != "user":
        raise NotFound(f"no user named {login!r}")
    return user


def authenticate(root, login: str, password: str) -> User | None:
    """The user for a login/password pair, or None (same cost either way)."""
    global _DUMMY_HASH
    user = root.owners.get(names.normalize_owner(login or ""))
    if user is None or user.kind != "user" or user.disabled or not user.password_hash:
        if _DUMMY_HASH is None:
            from ..security.passwords import hash_password

            _DUMMY_HASH = hash_password("not a real password")
        verify_password(_DUMMY_HASH, password or "")
        return None
    return user if verify_password(user.password_hash, password or "") else None
