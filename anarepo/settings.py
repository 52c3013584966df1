"""Every setting anarepo reads, with its default.  Values come from the .ini file.

==================================  =========================================
``zodbconn.uri``                    the database (FileStorage, ZEO, RelStorage)
``anarepo.secret``                  signs sessions and upload ids (default: a
                                    random secret kept in the database)
``anarepo.allow_signup``            people may create accounts (true)
``anarepo.allow_private``           private/authenticated packages allowed (true)
``anarepo.max_upload_size``         bytes per uploaded file (10 GiB)
``anarepo.site_name``               shown in pages ("anarepo")
``anarepo.sources.private_upstreams``  mirrors may fetch from loopback/private
                                    addresses (false: users define sources)
``anarepo.sources.max_fetches``     proxied files fetched inside requests at
                                    once per process (4; more answer 503)
``anarepo.sources.max_syncs``       syncs run by requests (API, web page) at
                                    once per process (1; more answer 503)
``anarepo.secure_cookies``          session cookie only over https (false)
``anarepo.subdomains``              map conda.<host> and pypi.<host> (true)
``anarepo.autoevolve``              run pending evolve steps at start-up (true)
``anarepo.includes``                extra Pyramid includes (dotted names)
``anarepo.disabled_plugins``        entry-point plugin names not to load
``anarepo.argon2.time_cost``        argon2 cost (library default)
``anarepo.argon2.memory_cost``      argon2 memory in KiB (library default)
``anarepo.replay.max_bytes``        memory for replayed public index answers
                                    (256 MiB; 0 turns replay off)
``anarepo.replay.max_age``          seconds an unasked replayable answer is
                                    kept (5; see anarepo/http/replay.py)
``anarepo.documents.max_bytes``     memory for rendered index documents of
                                    every face (768 MiB; anarepo/http/caching.py)
``anarepo.documents.max_entries``   documents kept at most (8192; 0: no bound)
``anarepo.x_accel.location``        nginx internal location for package files
                                    (empty: the app sends the bytes; see
                                    anarepo/deploy/xaccel.py)
``anarepo.x_accel.root``            the blob directory that location aliases
``anarepo.x_accel.documents``       directory for large replayed index documents
                                    nginx sends (empty: off)
``anarepo.x_accel.documents_min_size``  smaller ones stay in memory (64 KiB)
``anarepo.publish.dir``              public index documents nginx sends without
                                    asking the app (empty: off; see
                                    anarepo/deploy/published.py)
``anarepo.publish.gzip_min_size``   smaller published documents get no .gz
                                    twin (1024)
``anarepo.zeo_wait_timeout``         seconds a request waits for an absent ZEO
                                    server before it answers 503 (2; start-up
                                    waits the client's own wait-timeout)
``anarepo.startup.lease``           seconds a starting process may hold the
                                    start-up lease (120; anarepo/startup.py)
``anarepo.inspect.workers``          uploads inspected at once (2)
``anarepo.inspect.queue``            uploads queued for an inspection worker (2);
                                    more wait for a place
``anarepo.inspect.queue_wait``       seconds an upload waits for a place in that
                                    queue (30); beyond, 503 with Retry-After
``anarepo.inspect.seconds``          wall time per inspection (10)
``anarepo.inspect.members``          archive members walked per upload (50000)
``anarepo.inspect.decompressed_floor``  decompressed bytes per upload: this
``anarepo.inspect.decompressed_ratio``  plus ratio x the uploaded size (32 MiB
                                    + 16 x size; see docs/security.md)
``anarepo.render.cpu_seconds``      CPU seconds a notebook render may use (5);
                                    the child process is killed beyond it
``anarepo.render.seconds``          wall time of a notebook render (15)
``anarepo.render.memory``           address space of the render process
                                    (2 GiB)
``anarepo.public_url``               the site's canonical URL (scheme, host and
                                    path: ``https://host/repo/`` serves the app
                                    under /repo, with or without the front
                                    server stripping it) for every absolute
                                    URL; unset: the request's Host (trust it
                                    only behind a front server that sets it)
``anarepo.login.free_attempts``      failed logins before the back-off (5)
``anarepo.login.base_delay``         first back-off in seconds, doubling (1)
``anarepo.login.max_delay``          longest back-off in seconds (900)
``anarepo.login.max_concurrent_hashes``  password checks at once per process (4)
``anarepo.allow_local_passwords``    local accounts sign in with their password
                                     (true); false: only directory/OIDC users
                                     and ``anarepo.break_glass_admins``
``anarepo.break_glass_admins``       site admins whose local password still works
                                     when local passwords are off
``anarepo.login.oidc.*``             sign-in through an upstream OpenID Connect
                                     provider (anarepo/security/upstream_oidc.py;
                                     off unless ``anarepo.login.oidc.issuer``)
``anarepo.ldap.*``                   LDAP / Active Directory sign-in
                                     (anarepo/security/directory.py; off unless
                                     ``anarepo.ldap.url`` is set)
``anarepo.oidc.enabled``             the OpenID Connect provider (true;
                                    docs/security.md)
``anarepo.oidc.anaconda_client``     anaconda-client's public client is
                                    registered (true)
``anarepo.oidc.access_token_lifetime``  seconds (300)
``anarepo.oidc.code_lifetime``       seconds an authorization code lives (120)
``anarepo.oidc.clients``             more registered clients, each with
                                    ``anarepo.oidc.client.<id>.redirect_uris``,
                                    ``.secret_sha256``, ``.scopes``, ``.name``,
                                    ``.api``
==================================  =========================================
"""
from __future__ import annotations

from pyramid.settings import asbool

DEFAULTS = {
    "anarepo.allow_signup": "true",
    "anarepo.allow_private": "true",
    "anarepo.allow_local_passwords": "true",
    "anarepo.max_upload_size": str(10 * 1024**3),
    "anarepo.site_name": "anarepo",
    "anarepo.secure_cookies": "false",
    "anarepo.subdomains": "true",
    "anarepo.autoevolve": "true",
    "anarepo.includes": "",
    "anarepo.disabled_plugins": "",
    "anarepo.replay.max_bytes": str(256 << 20),
    "anarepo.replay.max_age": "5",
    "anarepo.documents.max_bytes": str(768 << 20),
    "anarepo.documents.max_entries": "8192",
    "anarepo.zeo_wait_timeout": "2",
    "anarepo.inspect.workers": "2",
    "anarepo.inspect.queue": "2",
    "anarepo.inspect.queue_wait": "30",
    "anarepo.inspect.seconds": "10",
    "anarepo.inspect.members": "50000",
    "anarepo.inspect.decompressed_floor": str(32 << 20),
    "anarepo.inspect.decompressed_ratio": "16",
    "anarepo.render.cpu_seconds": "5",
    "anarepo.render.seconds": "15",
    "anarepo.render.memory": str(2048 << 20),
    # transactions: explicit manager, 4xx/5xx never commit, ConflictError retried
    "tm.manager_hook": "pyramid_tm.explicit_manager",
    "tm.commit_veto": "pyramid_tm.default_commit_veto",
    "tm.annotate_user": "false",
    "retry.attempts": "16",  # with growing random pauses: anarepo/http/retry.py
    "retry.activate_hook": "anarepo.http.retry.retry_attempts",
    "jinja2.directories": "anarepo:templates",
    "jinja2.autoescape": "true",
    # links from package metadata pass through this filter again at render time
    "jinja2.filters": "http_url = anarepo.names:http_url",
}

BOOLEAN = ("anarepo.allow_signup", "anarepo.allow_local_passwords", "anarepo.allow_private", "anarepo.secure_cookies", "anarepo.subdomains", "anarepo.autoevolve")


def with_defaults(settings: dict) -> dict:
    merged = dict(DEFAULTS)
    merged.update({k: v for k, v in settings.items() if v is not None})
    for key in BOOLEAN:
        merged[key] = asbool(merged[key])
    merged["anarepo.max_upload_size"] = int(merged["anarepo.max_upload_size"])
    return merged


def section_reader(settings, prefix: str):
    """``get(key, default="")`` for one group of settings (``anarepo.ldap.``,
    ``anarepo.login.oidc.``): the stripped value of ``prefix + key``, the default
    when it is unset or empty."""
    return lambda key, default="": (settings.get(prefix + key) or default).strip()
