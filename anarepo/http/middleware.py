"""WSGI middleware run once per HTTP request, outside retries.

* ``/t/<token>/...`` at the root: the segment moves into ``SCRIPT_NAME`` so every
  URL the app generates keeps it, and the token goes to ``environ``.
* ``/<mount>/t/<token>/...`` (conda inserts it after the channel alias): the
  segment is cut out of ``PATH_INFO``; faces emit relative links, so it survives.
* ``<mount>.<host>`` maps onto ``/<mount>`` for faces registered with ``subdomain=True``.

The mounts are those of the registered faces (:mod:`anarepo.plugins.faces`).

The security policy reads ``environ['anarepo.token']``; nothing else sees it, and
:func:`redact` keeps it out of logs.
"""
from __future__ import annotations

import re

TOKEN_ENV = "anarepo.token"
ORIGINAL_SCRIPT_NAME = "anarepo.script_name"
ORIGINAL_PATH = "anarepo.original_path"
TOKEN_MOUNT = "anarepo.token_mount"

_ROOT_TOKEN = re.compile(r"^/t/([A-Za-z0-9-]+)(/.*)?$")
_ANY_TOKEN = re.compile(r"/t/[A-Za-z0-9-]+")
#: other secrets that may reach a log line: bare tokens, one-time upload ids in the
#: S3-style form URL, Authorization header values, password form fields
_SECRETS = (
    (re.compile(r"\bar-[A-Za-z0-9]{16,}"), "ar-<TOKEN>"),
    (re.compile(r"(/s3upload/)[^/?#\s'\"]+"), r"\1<UPLOAD-ID>"),
    (re.compile(r"(?i)\b(token|bearer|basic)(\s+)[A-Za-z0-9+/=._~-]{8,}"), r"\1\2<SECRET>"),
    (re.compile(r"(?i)((?:current_|new_)?password(?:_confirm)?['\"]?\s*[:=]\s*['\"]?)[^'\"&\s,}]+"), r"\1<SECRET>"),
)


def redact(text: str) -> str:
    """Mask tokens and other secrets in a URL or log line."""
    text = _ANY_TOKEN.sub("/t/<TOKEN>", text or "")
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _redacted(value):
    return redact(value) if isinstance(value, str) else value


def install_log_redaction() -> None:
    """Every log record of the process (ours, waitress's access and error lines,
    Pyramid's, tracebacks) has its secrets masked when it is created."""
    import logging

    factory = logging.getLogRecordFactory()
    if getattr(factory, "anarepo_redacts", False):
        return

    def make_record(*args, **kwargs):
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call: keep what we can, redacted
            message = str(record.msg)
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    make_record.anarepo_redacts = True
    logging.setLogRecordFactory(make_record)


def web_page_url(request, owner: str, label: str = "main") -> str:
    """The web page of an owner's channel (``/<owner>`` or ``/<owner>/label/<label>``)
    on the main host: a browser sent from ``conda.<host>/<owner>`` lands on the page
    the user guide means, never back on the subdomain, and without any path token."""
    host = request.host
    sub, _, rest = host.partition(".")
    if (sub.lower() in request.registry.anarepo_faces.subdomain_mounts() and rest
            and request.registry.settings.get("anarepo.subdomains", True)):
        host = rest
    path = f"/{owner}" + ("" if label == "main" else f"/label/{label}")
    return f"{request.scheme}://{host}{request.environ.get(ORIGINAL_SCRIPT_NAME, '')}{path}"


def _bad_request(start_response, message: bytes):
    start_response("400 Bad Request", [("Content-Type", "text/plain"), ("Content-Length", str(len(message)))])
    return [message]


def _mount_token_re(mounts) -> re.Pattern:
    alternatives = "|".join(re.escape(m) for m in sorted(mounts, key=len, reverse=True)) or "(?!)"
    return re.compile(rf"^/({alternatives})/t/([A-Za-z0-9-]+)(/.*)?$")


class TokenPrefixMiddleware:
    """``mounts`` (faces with a token after the mount) and ``subdomain_mounts``
    default to those of the faces registered in ``app.registry``."""

    def __init__(self, app, subdomains: bool = True, mounts=None, subdomain_mounts=None, prefix: str = ""):
        self.app = app
        #: the path of ``anarepo.public_url`` (``https://host/repo/`` -> ``/repo``): the app
        #: lives there, so every URL it makes starts with it (``SCRIPT_NAME``), and a request
        #: is routed whether the front server kept it (``/repo/conda/...``) or stripped it
        self.prefix = prefix.rstrip("/")
        self.subdomains = subdomains
        faces = getattr(getattr(app, "registry", None), "anarepo_faces", None)
        if mounts is None or subdomain_mounts is None:
            if faces is None:
                raise ValueError("TokenPrefixMiddleware needs mounts, or an app whose registry has the faces")
            mounts = faces.token_mounts() if mounts is None else mounts
            subdomain_mounts = faces.subdomain_mounts() if subdomain_mounts is None else subdomain_mounts
        self.mount_token = _mount_token_re(mounts)
        self.subdomain_mounts = frozenset(subdomain_mounts)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        script = environ.get("SCRIPT_NAME", "")
        if self.prefix:
            if path == self.prefix or path.startswith(self.prefix + "/"):
                path = path[len(self.prefix):] or "/"
            script = self.prefix
        environ[ORIGINAL_SCRIPT_NAME] = script
        environ[ORIGINAL_PATH] = script + path
        if self.subdomains:
            host = (environ.get("HTTP_HOST") or "").split(":")[0].lower()
            sub = host.split(".", 1)[0] if host.count(".") >= 1 else ""
            if sub in self.subdomain_mounts and not path.startswith(f"/{sub}/") and not path.startswith("/t/"):
                path = f"/{sub}{path}"
            elif sub in self.subdomain_mounts and path.startswith("/t/"):
                m = _ROOT_TOKEN.match(path)
                if m:
                    path = f"/{sub}/t/{m.group(1)}{m.group(2) or '/'}"
        token = None
        m = _ROOT_TOKEN.match(path)
        if m:
            token = m.group(1)
            script = f"{script}/t/{token}"
            path = m.group(2) or "/"
        m = self.mount_token.match(path)
        if m:
            if token is not None and token != m.group(2):
                return _bad_request(start_response, b"two different tokens in the path")
            token = m.group(2)
            environ[TOKEN_MOUNT] = m.group(1)
            path = f"/{m.group(1)}{m.group(3) or '/'}"
        if token is not None:
            environ[TOKEN_ENV] = token
        environ["SCRIPT_NAME"] = script
        environ["PATH_INFO"] = path
        return self.app(environ, start_response)


class PublicURLMiddleware:
    """With ``anarepo.public_url`` set, every absolute URL the app makes (links,
    redirects, upload form URLs, install hints) uses that scheme and host, whatever
    ``Host`` header a client sent: a forged Host can not point users elsewhere.
    Runs after the subdomain mapping, which still reads the real Host.  The URL's
    path (``https://host/repo/``) is :class:`TokenPrefixMiddleware`'s ``prefix``."""

    def __init__(self, app, public_url: str):
        parts = public_url_parts(public_url)
        self.app = app
        self.scheme = parts.scheme
        self.host = parts.netloc
        default_port = "443" if parts.scheme == "https" else "80"
        self.server_name, _, self.server_port = parts.netloc.partition(":")
        self.server_port = self.server_port or default_port

    def __getattr__(self, name):  # ``.registry`` and friends of the wrapped app
        return getattr(self.app, name)

    def __call__(self, environ, start_response):
        environ["wsgi.url_scheme"] = self.scheme
        environ["HTTP_HOST"] = self.host
        environ["SERVER_NAME"] = self.server_name
        environ["SERVER_PORT"] = self.server_port
        return self.app(environ, start_response)


def public_url_parts(public_url: str):
    """``anarepo.public_url`` split, or ValueError: http(s), a host, a path, nothing else."""
    from urllib.parse import urlsplit

    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"anarepo.public_url must be an http(s) URL without query or fragment, not {public_url!r}")
    return parts
