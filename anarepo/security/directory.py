"""LDAP / Active Directory sign-in with ldap3: bind, look up, map groups.

Configured by ``anarepo.ldap.*`` (docs/operations.md, "Sign-in"); off unless
``anarepo.ldap.url`` is set.  Two ways to check a password:

* a service account (``bind_dn``/``bind_password``) searches ``search_base`` with
  ``user_filter`` for the login, then the password is checked by binding as the
  DN found;
* a direct bind template (``bind_template``: ``uid={login},ou=people,dc=ex`` or
  AD's ``{login}@corp.example``) binds as the user, who then reads their own entry.

The entry gives the canonical login (``login_attribute``), e-mail and name; the
groups whose ``group_filter`` names the user's DN give the organization groups
(``group_map``).  "Disabled" is whatever ``user_filter`` no longer matches (AD:
``(!(userAccountControl:1.2.840.113556.1.4.803:=2))`` in it).  Every network
call has a timeout; a directory that cannot be reached is
:class:`DirectoryUnavailable` (503 to the client, never 500), and a wrong
password is an ordinary refusal.
"""
from __future__ import annotations

import logging
import re
import ssl
from dataclasses import dataclass, field

from pyramid.httpexceptions import HTTPServiceUnavailable
from pyramid.settings import asbool, aslist

from ..settings import section_reader

log = logging.getLogger(__name__)

PREFIX = "anarepo.ldap."
DEFAULT_USER_FILTER = "(uid={login})"
DEFAULT_GROUP_FILTER = "(|(member={dn})(uniqueMember={dn}))"


class DirectoryUnavailable(HTTPServiceUnavailable):
    """No configured directory server answered (or one failed mid-way)."""

    def __init__(self, detail="the sign-in directory (LDAP) cannot be reached; try again later"):
        super().__init__(detail, headers={"Retry-After": "30"})


@dataclass(frozen=True)
class DirectoryEntry:
    """What a sign-in or a re-check learned about a directory user."""

    dn: str
    login: str
    email: str
    name: str
    groups: frozenset = frozenset()  # normalized DNs of the user's groups
    uuid: str = ""  # the entry's unique id (uuid_attribute), which survives renames

    @property
    def subject(self) -> str:
        """What an account is bound to: ``uuid:<id>|<dn>``, or the DN without an id."""
        return f"uuid:{self.uuid}|{self.dn}" if self.uuid else self.dn


def normalize_dn(dn: str) -> str:
    """``CN=Devs, OU=Groups,DC=ex`` and ``cn=devs,ou=groups,dc=ex`` compare equal."""
    parts = re.split(r"(?<!\\),", dn or "")
    return ",".join("=".join(s.strip() for s in part.split("=", 1)) for part in parts).lower()


def parse_group_map(text: str) -> tuple:
    """``DN -> org/group`` lines into ((normalized DN, org, group), ...)."""
    mapping = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        dn, arrow, target = line.rpartition("->")
        org, slash, group = target.strip().partition("/")
        if not arrow or not dn.strip() or not slash or not org or not group:
            raise ValueError(f"anarepo.ldap.group_map: expected 'GROUP DN -> org/group', got {line!r}")
        mapping.append((normalize_dn(dn), org.strip().lower(), group.strip().lower()))
    return tuple(mapping)


@dataclass(frozen=True)
class DirectorySettings:
    urls: tuple
    search_base: str
    bind_dn: str = ""
    bind_password: str = field(default="", repr=False)
    bind_template: str = ""
    user_filter: str = DEFAULT_USER_FILTER
    login_attribute: str = "uid"
    email_attribute: str = "mail"
    name_attribute: str = "cn"
    uuid_attribute: str = "entryUUID"  # Active Directory: objectGUID
    group_search_base: str = ""
    group_filter: str = DEFAULT_GROUP_FILTER
    group_map: tuple = ()
    start_tls: bool = False
    ca_file: str = ""
    timeout: float = 5.0
    recheck_interval: float = 300.0

    @classmethod
    def from_settings(cls, settings) -> "DirectorySettings | None":
        urls = tuple(aslist(settings.get(PREFIX + "url", "") or ""))
        if not urls:
            return None
        get = section_reader(settings, PREFIX)
        directory = cls(
            urls=urls,
            search_base=get("search_base"),
            bind_dn=get("bind_dn"),
            bind_password=settings.get(PREFIX + "bind_password") or "",
            bind_template=get("bind_template"),
            user_filter=get("user_filter", DEFAULT_USER_FILTER),
            login_attribute=get("login_attribute", "uid"),
            email_attribute=get("email_attribute", "mail"),
            name_attribute=get("name_attribute", "cn"),
            uuid_attribute=get("uuid_attribute", "entryUUID"),
            group_search_base=get("group_search_base"),
            group_filter=get("group_filter", DEFAULT_GROUP_FILTER),
            group_map=parse_group_map(settings.get(PREFIX + "group_map", "")),
            start_tls=asbool(settings.get(PREFIX + "start_tls", False)),
            ca_file=get("ca_file"),
            timeout=float(get("timeout", "5")),
            recheck_interval=float(get("recheck_interval", "300")),
        )
        if not directory.search_base:
            raise ValueError("anarepo.ldap.search_base is required with anarepo.ldap.url")
        if "{login}" not in directory.user_filter:
            raise ValueError("anarepo.ldap.user_filter must contain {login}")
        if directory.bind_template and "{login}" not in directory.bind_template:
            raise ValueError("anarepo.ldap.bind_template must contain {login}")
        for url in urls:
            if not url.startswith(("ldap://", "ldaps://")):
                raise ValueError(f"anarepo.ldap.url: {url!r} is not an ldap:// or ldaps:// URL")
        return directory


class Directory:
    """One configured directory: checks passwords and looks users up."""

    def __init__(self, config: DirectorySettings):
        from ldap3 import Server, Tls

        self.config = config
        tls = None
        if config.ca_file or config.start_tls or any(u.startswith("ldaps://") for u in config.urls):
            tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=config.ca_file or None)
        self.servers = [
            Server(url, use_ssl=url.startswith("ldaps://"), tls=tls, get_info="NO_INFO",
                   connect_timeout=config.timeout, allowed_referral_hosts=[])
            for url in config.urls
        ]

    # -- connections ------------------------------------------------------------
    def _connect(self, user: str | None, password: str | None):
        """A bound connection, ``None`` if the directory refused the credentials, or
        :class:`DirectoryUnavailable` if no server could be reached."""
        from ldap3 import ANONYMOUS, SIMPLE, Connection
        from ldap3.core.exceptions import LDAPException

        last_error = None
        for server in self.servers:
            # no referrals: ldap3 would follow them to any host and bind there with these credentials
            conn = Connection(server, user=user, password=password, read_only=True,
                              authentication=SIMPLE if user else ANONYMOUS, auto_referrals=False,
                              receive_timeout=max(1, int(self.config.timeout)), auto_bind="NONE")
            try:
                conn.open()
                if self.config.start_tls and not server.ssl and not conn.start_tls():
                    last_error = "StartTLS refused"
                    conn.unbind()
                    continue
                if conn.bind():
                    return conn
                code = conn.result.get("result")
                conn.unbind()
                if code in (49, 50, 53):  # invalidCredentials, insufficientAccessRights, unwillingToPerform
                    return None
                last_error = f"bind answered {conn.result.get('description')}"
            except LDAPException as exc:  # socket, TLS, timeouts: try the next server
                last_error = f"{type(exc).__name__}: {exc}"
                try:
                    conn.unbind()
                except LDAPException:
                    pass
        log.warning("LDAP: no directory server answered (%s)", last_error)
        raise DirectoryUnavailable()

    def _service_connection(self):
        conn = self._connect(self.config.bind_dn or None, self.config.bind_password or None)
        if conn is None:
            log.error("LDAP: the directory refused the service account %s", self.config.bind_dn)
            raise DirectoryUnavailable("the sign-in directory refused the server's own account; tell the administrator")
        return conn

    def _search(self, conn, base: str, flt: str, attributes) -> list:
        from ldap3 import SUBTREE
        from ldap3.core.exceptions import LDAPException

        try:
            conn.search(base, flt, search_scope=SUBTREE, attributes=attributes, size_limit=50,
                        time_limit=int(self.config.timeout) or 1)
        except LDAPException as exc:
            log.warning("LDAP: search failed: %s", exc)
            raise DirectoryUnavailable() from None
        return [entry for entry in conn.response or () if entry.get("type") == "searchResEntry"]

    # -- lookups ------------------------------------------------------------------
    def _user_filter(self, login: str) -> str:
        from ldap3.utils.conv import escape_filter_chars

        return self.config.user_filter.replace("{login}", escape_filter_chars(login))

    def _find(self, conn, login: str) -> DirectoryEntry | None:
        cfg = self.config
        attributes = [cfg.login_attribute, cfg.email_attribute, cfg.name_attribute, cfg.uuid_attribute]
        entries = self._search(conn, cfg.search_base, self._user_filter(login), attributes)
        if len(entries) != 1:
            return None  # absent, disabled (filtered out) or ambiguous
        entry = entries[0]
        attrs = entry.get("attributes") or {}

        def first(name):
            value = attrs.get(name)
            if isinstance(value, list):
                value = value[0] if value else ""
            return str(value or "")

        dn = entry["dn"]
        login = first(cfg.login_attribute) or login
        groups = frozenset()
        if cfg.group_map:
            from ldap3.utils.conv import escape_filter_chars

            flt = cfg.group_filter.replace("{dn}", escape_filter_chars(dn)).replace("{login}", escape_filter_chars(login))
            found = self._search(conn, cfg.group_search_base or cfg.search_base, flt, [])
            groups = frozenset(normalize_dn(g["dn"]) for g in found)
        return DirectoryEntry(dn=dn, login=login, email=first(cfg.email_attribute),
                              name=first(cfg.name_attribute), groups=groups, uuid=first(cfg.uuid_attribute)[:200])

    def authenticate(self, login: str, password: str) -> DirectoryEntry | None:
        """The directory entry when ``password`` is the user's, else None.

        Raises :class:`DirectoryUnavailable` when no server answers.
        """
        if not login or not password or len(password) > 1024 or len(login) > 256:
            return None  # an empty password would be an unauthenticated bind, which "succeeds"
        cfg = self.config
        if cfg.bind_template:
            from ldap3.utils.dn import escape_rdn

            bound = cfg.bind_template.replace("{login}", escape_rdn(login))
            conn = self._connect(bound, password)
            if conn is None:
                return None
            try:
                entry = self._find(conn, login)
                return entry if entry is not None and self._bound_as(conn, bound, entry) else None
            finally:
                conn.unbind()
        service = self._service_connection()
        try:
            entry = self._find(service, login)
            if entry is None:
                return None
            user_conn = self._connect(entry.dn, password)
            if user_conn is None:
                return None
            user_conn.unbind()
            return entry
        finally:
            service.unbind()

    @staticmethod
    def _bound_as(conn, bound: str, entry: DirectoryEntry) -> bool:
        """Whether the entry the filter found is the one the password was checked for:
        the server's "Who am I?" (RFC 4532) ``dn:`` answer, or the template's DN.  (A
        filter on another attribute than the template's could find someone else.)"""
        from ldap3.core.exceptions import LDAPException

        try:
            who = conn.extend.standard.who_am_i() or ""
        except LDAPException:
            who = ""
        who = who.decode("utf-8", "replace") if isinstance(who, bytes) else str(who)
        if who.lower().startswith("dn:"):
            return normalize_dn(who[3:]) == normalize_dn(entry.dn)
        if "=" in bound:  # a DN template: the DN bound is the one built
            return normalize_dn(bound) == normalize_dn(entry.dn)
        return True  # e.g. Active Directory's user@domain with "u:" answers: as configured

    def lookup(self, login: str) -> DirectoryEntry | None:
        """The user's entry as it stands (None: removed or disabled), for re-checks.

        Uses the service account, or an anonymous bind in direct-bind mode.
        """
        conn = self._service_connection()
        try:
            return self._find(conn, login)
        finally:
            conn.unbind()

    def profile(self, entry: DirectoryEntry):
        """The entry as an :class:`~anarepo.security.external.ExternalProfile`
        (its groups through ``group_map``)."""
        from .external import ExternalProfile, map_groups

        return ExternalProfile(login=entry.login, subject=entry.subject, email=entry.email, name=entry.name,
                               **map_groups(self.config.group_map, entry.groups))

    def lookup_profile(self, login: str):
        entry = self.lookup(login)
        return None if entry is None else self.profile(entry)


def get_directory(registry) -> Directory | None:
    return registry.anarepo_directory


def includeme(config):
    from .external import install_source

    settings = DirectorySettings.from_settings(config.registry.settings)
    directory = Directory(settings) if settings else None
    install_source(config, "ldap", "anarepo_directory", directory, settings and settings.recheck_interval,
                   DirectoryUnavailable, directory and directory.lookup_profile)
