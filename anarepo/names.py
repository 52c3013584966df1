"""Validation and normalization of every name that becomes a key or a URL segment.

Names are checked here, once, before they reach a BTree: owner logins, package
names, versions, labels and file basenames.  Every checker raises
:class:`InvalidName` with a message meant for the person who typed the name;
views turn it into a 400 answer.
"""
from __future__ import annotations

import re

#: Owner names that would collide with fixed segments of the URL space, with
#: view names on the root, or with names people would mistake for the site.
#: The mounts of the faces (``/api``, ``/conda``...) are reserved by the faces
#: that register them (``reserved_owner_names(registry)``), not listed here.
RESERVED_OWNER_NAMES = frozenset(
    """
    t label labels static account accounts dashboard organizations
    organization orgs org settings login logout signup register search packages package
    admin administrator root system anarepo anaconda binstar www mail help about docs
    download downloads upload uploads files file notebooks environments envs projects
    users user groups group tokens token scopes authentication authentications
    authentication-type stage commit dist release releases channels channel copy
    s3upload s3 health healthz metrics favicon.ico robots.txt _ __token__ anonymous
    everyone authenticated null none true false new edit delete owners notices app
    """.split()
)

#: Package names that would shadow web views on an owner page (``/<owner>/<name>``):
#: ``mirrors`` is the owner's Mirrors page (anarepo/sources/views.py).
RESERVED_PACKAGE_NAMES = frozenset(["label", "labels", "settings", "groups", "mirrors", "@@"])

#: Version strings that would shadow web views on a package page.
RESERVED_VERSIONS = frozenset(
    ["files", "settings", "labels", "label", "download", "versions", "history", "admin"]
)

OWNER_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
PACKAGE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$")
VERSION_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+!*-]{0,127}$")
LABEL_RE = re.compile(r"^[a-zA-Z][0-9a-zA-Z_.-]{0,127}$")
BASENAME_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9 ._+!~%=@,()\[\]-]{0,210}$")
GROUP_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab, newline and return are text
MAX_SUMMARY = 1000
#: PyPI limits only the summary (512 characters, Warehouse's forklift/metadata.py);
#: a long description is as long as the metadata file that carries it, which the
#: PyPI type reads up to 8 MiB (black's is 141 KB, pydantic's 93 KB).
MAX_DESCRIPTION = 8 << 20
#: Warehouse limits no license either: old METADATA carries the whole license text
#: (Markdown 3.6: 1,500 characters; GPL texts: 35,000).
MAX_LICENSE = 256 * 1024


class InvalidName(ValueError):
    """A name that can not be used; the message says why, for the user."""


def normalize_owner(name: str) -> str:
    """Owner logins are case-insensitive: ``Travis`` and ``travis`` are one account."""
    return (name or "").strip().lower()


def reserved_owner_names(registry) -> frozenset:
    """Every reserved owner name: the fixed ones and those the registered faces reserve."""
    lists = {t.list_path for t in registry.package_types.values() if t.list_path}
    return RESERVED_OWNER_NAMES | registry.anarepo_faces.reserved_owner_names() | lists


def check_owner_name(name: str, reserved=RESERVED_OWNER_NAMES) -> str:
    """Return the normalized owner login or raise :class:`InvalidName`; ``reserved``
    is :func:`reserved_owner_names` of the application (its faces' mounts)."""
    if not isinstance(name, str):
        raise InvalidName("the name must be a string")
    login = normalize_owner(name)
    if not OWNER_RE.fullmatch(login):
        raise InvalidName(
            "names are 2 to 64 characters: lower-case letters, digits, '-' and '_',"
            " starting with a letter or a digit (no spaces or special characters)"
        )
    if login in reserved or login in RESERVED_OWNER_NAMES:
        raise InvalidName(f"the name {login!r} is reserved")
    return login


def package_key(name: str) -> str:
    """The BTree key of a package: names are case-insensitive within an owner."""
    return name.lower()


def check_package_name(name: str) -> str:
    """Return the package name as given (display case kept) or raise."""
    if not isinstance(name, str) or not PACKAGE_RE.fullmatch(name) or ".." in name:
        raise InvalidName(
            f"invalid package name {name!r}: use letters, digits, '.', '_', '+' and '-'"
            " (at most 128 characters)"
        )
    if name.lower() in RESERVED_PACKAGE_NAMES:
        raise InvalidName(f"the package name {name!r} is reserved")
    return name


def check_version(version: str) -> str:
    if not isinstance(version, str) or not VERSION_RE.fullmatch(version) or ".." in version:
        raise InvalidName(
            f"invalid version {version!r}: use letters, digits and . _ + ! * -"
            " (at most 128 characters)"
        )
    if version.lower() in RESERVED_VERSIONS:
        raise InvalidName(f"the version {version!r} is reserved")
    return version


def check_label(label: str) -> str:
    """Labels are lower-cased, as the anaconda CLI does with ``move``."""
    if not isinstance(label, str) or not LABEL_RE.fullmatch(label):
        raise InvalidName(
            f"invalid label {label!r}: start with a letter, then letters, digits, '.', '_', '-'"
        )
    label = label.lower()
    if label == "nolabel":
        raise InvalidName("the label 'nolabel' is reserved")
    return label


def check_group_name(name: str) -> str:
    name = (name or "").strip().lower()
    if not GROUP_RE.fullmatch(name):
        raise InvalidName(
            f"invalid group name {name!r}: lower-case letters, digits, '-' and '_'"
        )
    return name


def check_basename(basename: str, allow_subdir: bool = True) -> str:
    """A file name, optionally prefixed by one directory (``linux-64/x.conda``).

    Refuses path tricks: absolute paths, ``..``, backslashes, empty segments and
    control characters.
    """
    if not isinstance(basename, str) or not basename:
        raise InvalidName("a file name is required")
    if "\\" in basename or "\x00" in basename or any(ord(c) < 32 for c in basename):
        raise InvalidName(f"invalid file name {basename!r}")
    parts = basename.split("/")
    if len(parts) > (2 if allow_subdir else 1):
        raise InvalidName(f"invalid file name {basename!r}: too many directories")
    for part in parts:
        if part in ("", ".", "..") or not BASENAME_SEGMENT_RE.fullmatch(part):
            raise InvalidName(f"invalid file name {basename!r}")
    if len(basename) > 255:
        raise InvalidName("file names are at most 255 characters")
    return basename


def check_email(email: str) -> str:
    email = (email or "").strip()
    if not EMAIL_RE.fullmatch(email):
        raise InvalidName(f"invalid e-mail address {email!r}")
    return email


def check_text(value, field: str, limit: int = MAX_SUMMARY) -> str:
    """Free text fields (summary, description...): strings of bounded length."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidName(f"{field} must be a string")
    if len(value) > limit:
        raise InvalidName(f"{field} is longer than {limit} characters")
    if _CONTROL.search(value):
        raise InvalidName(f"{field} has control characters")
    return value


#: Package and release fields shown as links: only http(s) URLs are kept.
LINK_FIELDS = frozenset(["home", "dev_url", "doc_url", "license_url", "home_page", "source_url"])
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_HTTP_URL_RE = re.compile(r"^https?://[^\s\x00-\x1f\x7f<>\"'`\\]+$", re.IGNORECASE)
MAX_URL = 2000


def _url_text(value: str) -> str:
    """What a browser's URL parser sees: C0 controls and spaces trimmed, tabs and
    new lines removed anywhere (so ``java\tscript:`` is ``javascript:``)."""
    return re.sub(r"[\t\n\r]", "", value).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f"
                                                    "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b"
                                                    "\x1c\x1d\x1e\x1f \xa0\u3000")


def http_url(value) -> str:
    """``value`` if it is an absolute http(s) URL, else ``""`` (the render filter)."""
    if not isinstance(value, str):
        return ""
    text = _url_text(value)
    return text if len(text) <= MAX_URL and _HTTP_URL_RE.fullmatch(text) else ""


def check_link(value, field: str) -> str:
    """A URL field (home page, documentation...): an http(s) URL or nothing.

    Any other scheme (``javascript:``, ``data:``, ``file:``...) is refused; text
    without a scheme (``UNKNOWN``, a bare host name) is not a link and is dropped.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidName(f"{field} must be a string")
    text = _url_text(value)
    if not text:
        return ""
    url = http_url(text)
    if url:
        return url
    if _SCHEME_RE.match(text) or text.startswith("//"):
        raise InvalidName(f"{field} must be an http or https URL")
    return ""


def split_names(text: str, limit: int = 200) -> list[str]:
    """Names typed into one form field, separated by commas, spaces or new lines."""
    items = [item for item in re.split(r"[\s,;]+", text or "") if item]
    if len(items) > limit:
        raise InvalidName(f"at most {limit} names at once")
    return list(dict.fromkeys(items))
