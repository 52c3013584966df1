"""``anarepo gen-config``: every file a multi-process site needs, with absolute paths.

In the spirit of ``devpi-gen-config``: one command writes, into one directory,

* ``zeo.conf`` (ZEO backend) — the ZEO server: FileStorage with a native blob directory;
* ``zodb.conf`` — the app's database (``zodbconn.uri = zconfig://.../zodb.conf``): a ZEO
  client with ``server-sync`` (read-your-writes across processes) and the *same*
  blob directory as the server, or RelStorage on PostgreSQL (history-free);
* ``zodbpack.conf`` (RelStorage) — for ``zodbpack``;
* ``anarepo.ini`` — the application and waitress, trusting the front server's headers;
* ``nginx-anarepo.conf`` — TLS, round robin over the app processes, package files
  sent by nginx through ``X-Accel-Redirect`` from the blob directory;
* ``systemd/`` — ``anarepo-zeo.service``, ``anarepo@.service`` (one process per port:
  ``systemctl enable --now anarepo@6543 anarepo@6544``) and ``anarepo-init.service``.

Paths are absolute, so nothing depends on the directory a program is started from.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from ..security.headers import CSP
from . import published
from .xaccel import DOCUMENTS_LOCATION

#: the internal nginx location the app names in ``X-Accel-Redirect``
X_ACCEL_LOCATION = "/_anarepo_blobs/"


@dataclass
class Site:
    out: str                     # where the files go
    var: str                     # data directory (Data.fs, blobs)
    backend: str = "zeo"         # zeo | relstorage
    server_name: str = "localhost"
    ports: list = field(default_factory=lambda: [6543, 6544])
    zeo_address: str = "127.0.0.1:8100"
    dsn: str = "dbname='anarepo' user='anarepo' password='secret' host='127.0.0.1'"
    listen: str = "443 ssl"      # nginx listen; "8080" for plain HTTP (tests)
    ssl_certificate: str = "/etc/ssl/certs/anarepo.pem"
    ssl_certificate_key: str = "/etc/ssl/private/anarepo.key"
    x_accel: bool = True
    threads: int = 8
    user: str = "anarepo"
    venv_bin: str = os.path.dirname(sys.executable)
    extra_settings: dict = field(default_factory=dict)

    @property
    def blob_dir(self) -> str:
        return os.path.join(self.var, "blobs")

    @property
    def documents_dir(self) -> str:
        """Large replayed index documents, written by the app, sent by nginx."""
        return os.path.join(self.var, "documents")

    @property
    def published_dir(self) -> str:
        """Public index documents nginx sends without asking the app (deploy/published.py)."""
        return os.path.join(self.var, "published")

    def path(self, name: str) -> str:
        return os.path.join(self.out, name)


def zeo_server_conf(address: str, data_fs: str, blob_dir: str) -> str:
    return f"""\
# ZEO server (anarepo gen-config): runzeo -C {{this file}}, from anarepo's virtualenv.
# FileStorage's native blob support (never a <blobstorage> wrapper: docs/operations.md).
# App processes use this very blob directory (shared-blob-dir): files never travel
# over the ZEO protocol, and nginx sends them from here.
<zeo>
  address {address}
</zeo>

<filestorage 1>
  path {data_fs}
  blob-dir {blob_dir}
</filestorage>

<eventlog>
  <logfile>
    path STDOUT
  </logfile>
</eventlog>
"""


def zodb_conf(site: Site) -> str:
    db = "  pool-size 8\n  cache-size 50000\n"
    if site.backend == "zeo":
        storage = f"""\
  <clientstorage>
    server {site.zeo_address}
    # a round trip at each transaction start: every commit another process
    # acknowledged is visible (read-your-writes across processes)
    server-sync true
    blob-dir {site.blob_dir}
    shared-blob-dir true
    cache-size 256MB
  </clientstorage>
"""
        head = "%import ZEO\n"
    else:
        storage = f"""\
  <relstorage>
    keep-history false
    blob-dir {site.blob_dir}
    shared-blob-dir false
    blob-cache-size 20GB
    <postgresql>
      dsn {site.dsn}
    </postgresql>
  </relstorage>
"""
        head = "%import relstorage\n"
    return f"# the application's database (anarepo gen-config); zodbconn.uri = zconfig://{site.path('zodb.conf')}\n" \
        f"{head}<zodb>\n{db}{storage}</zodb>\n"


def zodbpack_conf(site: Site) -> str:
    return f"""\
# zodbpack {site.path('zodbpack.conf')} --days 7   (RelStorage; run from cron)
%import relstorage
<relstorage>
  keep-history false
  pack-gc true
  <postgresql>
    dsn {site.dsn}
  </postgresql>
</relstorage>
"""


def app_ini(site: Site) -> str:
    extra = "".join(f"{k} = {v}\n" for k, v in site.extra_settings.items())
    x_accel = (f"anarepo.x_accel.location = {X_ACCEL_LOCATION}\nanarepo.x_accel.root = {site.blob_dir}\n"
               f"anarepo.x_accel.documents = {site.documents_dir}\n"
               f"anarepo.publish.dir = {site.published_dir}\n") if site.x_accel else ""
    return f"""\
# anarepo (anarepo gen-config). One process per port: anarepo serve -c THIS --port 6543
[app:main]
use = egg:anarepo
zodbconn.uri = zconfig://{site.path('zodb.conf')}
anarepo.allow_signup = false
anarepo.secure_cookies = true
{x_accel}{extra}pyramid.reload_templates = false

[server:main]
use = egg:waitress#main
listen = 127.0.0.1:{site.ports[0]}
threads = {site.threads}
max_request_body_size = 10737418240
outbuf_overflow = 33554432
trusted_proxy = 127.0.0.1
trusted_proxy_headers = x-forwarded-for x-forwarded-host x-forwarded-proto x-forwarded-port
clear_untrusted_proxy_headers = true

[loggers]
keys = root, anarepo

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[logger_anarepo]
level = INFO
handlers =
qualname = anarepo

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)-5.5s [%(name)s:%(process)d] %(message)s
"""


#: how a location hands a request to the app (``location /`` and ``@anarepo``, the
#: fallback of the published-document locations)
PROXY_TO_APP = """\
        proxy_pass http://anarepo;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Host $host;
        proxy_set_header X-Forwarded-Port $server_port;
        proxy_read_timeout 3600s;
        proxy_send_timeout 3600s;
        # a process that is restarting: GET/HEAD go to the next one, never a POST
        proxy_next_upstream error timeout http_502;
"""


def nginx_conf(site: Site) -> str:
    upstreams = "".join(f"    server 127.0.0.1:{port} max_fails=0;\n" for port in site.ports)
    tls = ""
    if "ssl" in site.listen:
        tls = f"""\
    ssl_certificate {site.ssl_certificate};
    ssl_certificate_key {site.ssl_certificate_key};
    ssl_protocols TLSv1.2 TLSv1.3;
"""
    x_accel = f"""\
    # package files: the app authorizes the request and answers 304 itself, then
    # names the blob file in X-Accel-Redirect; nginx sends the bytes (sendfile,
    # Range) with the app's headers.
    location ^~ {X_ACCEL_LOCATION} {{
        internal;
        alias {site.blob_dir}/;
        sendfile on;
        tcp_nopush on;
        etag off;
        add_header ETag $upstream_http_etag always;
        add_header Content-Security-Policy $upstream_http_content_security_policy always;
        add_header X-Content-Type-Options $upstream_http_x_content_type_options always;
        add_header X-Frame-Options $upstream_http_x_frame_options always;
        add_header Referrer-Policy $upstream_http_referrer_policy always;
        add_header Access-Control-Allow-Origin $upstream_http_access_control_allow_origin always;
    }}
    # large public index documents (repodata.json): the app checks per request that
    # its stored answer is the current revision's and answers 304s, nginx sends the bytes
    location ^~ {DOCUMENTS_LOCATION} {{
        internal;
        alias {site.documents_dir}/;
        sendfile on;
        tcp_nopush on;
        etag off;
        add_header ETag $upstream_http_etag always;
        add_header Content-Encoding $upstream_http_content_encoding always;
        add_header Vary $upstream_http_vary always;
        add_header X-Content-Type-Options $upstream_http_x_content_type_options always;
        add_header Access-Control-Allow-Origin $upstream_http_access_control_allow_origin always;
    }}
""" if site.x_accel else ""
    front = published_locations(site) if site.x_accel else ""
    return f"""\
# nginx for anarepo (anarepo gen-config): include from the http {{}} block, e.g.
#   ln -s {site.path('nginx-anarepo.conf')} /etc/nginx/sites-enabled/anarepo.conf
upstream anarepo {{
{upstreams}    keepalive 32;
}}
{published_maps(site) if site.x_accel else ""}
server {{
    listen {site.listen};
    server_name {site.server_name};
{tls}    client_max_body_size 10g;
    # uploads stream to the app as they arrive (no spooling the whole body first)
    proxy_request_buffering off;
{front}    location / {{
{PROXY_TO_APP}    }}
    # where the published-document locations fall back to the app
    location @anarepo {{
{PROXY_TO_APP}    }}
{x_accel}}}
"""


def published_maps(site: Site) -> str:
    """Which requests may read published documents, and which Accept variant they want."""
    import re

    # long values as anchored case-insensitive regexes: exact strings longer than
    # map_hash_bucket_size (64) would need that raised in the operator's http {} block
    accept = "".join(f'    "{value}" {tag};\n' if len(value) < 32 else f'    "~*^{re.escape(value)}$" {tag};\n'
                     for value, tag in published.ACCEPT_VARIANTS.items())
    return f"""
# public index documents the app published (anarepo/deploy/published.py): only plain
# anonymous GET/HEAD without a query read them; the rest goes to the app
map "$request_method:$http_authorization$http_cookie$args" $anarepo_published {{
    default /none;
    "GET:" /current;
    "HEAD:" /current;
}}
map $http_accept $anarepo_accept {{
    default -;
{accept}}}
"""


#: which published extensions a request path may have, by its ending (nginx regex -> extensions)
PUBLISHED_BY_SUFFIX = {r"/$": ("html", "pypihtml", "pypijson"), r"\.json$": ("json",), r"\.zst$": ("zst",)}


def published_locations(site: Site) -> str:
    types = "".join(f"            {ctype} {ext};\n" for ext, ctype in published.NGINX_TYPES.items())
    out = """\
    # Public index documents: nginx sends what the app published for the current database
    # revision; every commit ends that generation before it is acknowledged, so nothing
    # older than an acknowledged write is sent (read-your-writes).  Everything else, and
    # any miss, goes to the app.  One location per kind of ending: few checks per request.
"""
    for suffix, exts in PUBLISHED_BY_SUFFIX.items():
        candidates = " ".join(f"$anarepo_published/$scheme/$host$uri@$anarepo_accept.{ext}" for ext in exts)
        out += f"""\
    location ~ {suffix} {{
        root {site.published_dir};
        try_files {candidates} @anarepo;
        # a file removed between the check and the open: the app answers
        error_page 404 = @anarepo;
        log_not_found off;
        sendfile on;
        tcp_nopush on;
        gzip_static on;
        charset utf-8;
        charset_types text/html application/vnd.pypi.simple.v1+html;
        types {{
{types}        }}
        add_header Cache-Control "{published.CACHE_CONTROL}" always;
        add_header Vary "{published.VARY}" always;
        add_header X-Content-Type-Options nosniff always;
        add_header Referrer-Policy same-origin always;
        add_header Content-Security-Policy "{CSP}" always;
        add_header {published.MARKER} published always;
    }}
"""
    return out


def systemd_units(site: Site) -> dict[str, str]:
    anarepo = os.path.join(site.venv_bin, "anarepo")
    ini = site.path("anarepo.ini")
    units = {
        "anarepo@.service": f"""\
# one anarepo process on port %i:  systemctl enable --now anarepo@{site.ports[0]}
[Unit]
Description=anarepo on port %i
After=network.target {"anarepo-zeo.service" if site.backend == "zeo" else "postgresql.service"} anarepo-init.service
Requires=anarepo-init.service

[Service]
User={site.user}
ExecStart={anarepo} -c {ini} serve --port %i
ExecReload=/bin/kill -HUP $MAINPID
KillSignal=SIGTERM
TimeoutStopSec=60
Restart=on-failure

[Install]
WantedBy=multi-user.target
""",
        "anarepo-init.service": f"""\
# creates or evolves the database once before the app processes start
[Unit]
Description=anarepo database initialization and evolve steps
After=network.target {"anarepo-zeo.service" if site.backend == "zeo" else "postgresql.service"}

[Service]
Type=oneshot
RemainAfterExit=yes
User={site.user}
ExecStart={anarepo} -c {ini} init
""",
    }
    if site.backend == "zeo":
        units["anarepo-zeo.service"] = f"""\
[Unit]
Description=ZEO server for anarepo
After=network.target

[Service]
User={site.user}
ExecStart={os.path.join(site.venv_bin, "runzeo")} -C {site.path('zeo.conf')}
Restart=on-failure

[Install]
WantedBy=multi-user.target
"""
    return units


def generate(site: Site, what: str = "all") -> list[str]:
    """Write the files for ``what`` (all, nginx, systemd, zeo, zodb, ini); return their paths."""
    files: dict[str, str] = {}
    if what in ("all", "zodb"):
        files["zodb.conf"] = zodb_conf(site)
    if what in ("all", "zeo") and site.backend == "zeo":
        files["zeo.conf"] = zeo_server_conf(site.zeo_address, os.path.join(site.var, "Data.fs"), site.blob_dir)
    if what in ("all", "zodb") and site.backend == "relstorage":
        files["zodbpack.conf"] = zodbpack_conf(site)
    if what in ("all", "ini"):
        files["anarepo.ini"] = app_ini(site)
    if what in ("all", "nginx"):
        files["nginx-anarepo.conf"] = nginx_conf(site)
    if what in ("all", "systemd"):
        files.update({os.path.join("systemd", k): v for k, v in systemd_units(site).items()})
    os.makedirs(site.var, exist_ok=True)
    os.makedirs(site.blob_dir, exist_ok=True)
    os.makedirs(site.documents_dir, exist_ok=True)
    os.makedirs(site.published_dir, exist_ok=True)
    written = []
    for name, text in files.items():
        path = site.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as out:
            out.write(text)
        written.append(path)
    return written
