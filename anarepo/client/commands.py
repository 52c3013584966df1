"""``anarepo upload`` and ``anarepo download``: the client commands of the core.

Types add their own client commands through ``PackageType.add_cli_commands``
(``anarepo env create`` is the ``env`` type's), with the helpers here that the
plugin facade re-exports as ``client`` (:func:`api_for`, :func:`latest_files`,
:func:`fetch`, :func:`add_common`, :class:`ClientError`).  A directory given to
``upload`` is packed by the type that takes directories
(``PackageType.pack_directory``: projects).
"""
from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote

from ..plugins import InvalidPackage
from .api import Api, ClientError, MultipartBody, file_digests
from .config import api_url, load_token


def api_for(args) -> Api:
    """The API client the command's options (``add_common``) name, with its token."""
    url = api_url(args.url, args.site)
    return Api(url, load_token(url, args.token), verify=not args.insecure)


def _registry():
    from ..plugins import standalone_registry

    return standalone_registry()


def _progress(total: int, label: str, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label, file=sys.stderr, leave=False)


class Uploader:
    def __init__(self, args, api: Api, owner: str):
        self.args, self.api, self.owner = args, api, owner
        self.registry = _registry()

    def directory_type(self):
        """The type that uploads a directory: the one named, else the one that packs them."""
        types = self.registry.package_types
        named = types.get(self.args.package_type) if self.args.package_type else None
        if self.args.package_type and named is None:
            raise ClientError(f"unknown package type {self.args.package_type!r}")
        candidates = [named] if named is not None else [t for t in types.ordered() if t.packs_directories]
        if not candidates or not candidates[0].packs_directories:
            raise ClientError("no package type takes a directory" + (f" ({named.name} does not)" if named else ""))
        return candidates[0]

    def describe(self, path: Path, display: str):
        """(type, FileInfo) for a local file, with the explicit options applied."""
        from ..inspection import inspect_bounded
        from ..services.publishing import resolve_type

        ptype = resolve_type(self.registry, display, path, self.args.package_type)
        version = self.args.version
        first = ptype.next_version(()) if not version else None
        if first is not None:  # a type that numbers versions (projects): the package's next one
            name = inspect_bounded(path, ptype.inspect, path, display, name=self.args.package, version=first,
                                   registry=self.registry).name
            package = self.api.get_json(f"/package/{self.owner}/{name}", missing_ok=True)
            version = ptype.next_version([str(r.get("version", "")) for r in (package or {}).get("releases", [])])
        # under the same work budget and bounded pool as the server's inspection
        info = inspect_bounded(path, ptype.inspect, path, display, name=self.args.package, version=version,
                               registry=self.registry)
        return ptype, info

    def upload(self, path: Path, display: str) -> str:
        ptype, info = self.describe(path, display)
        name, version, basename = info.name, info.version, info.basename
        where = f"/{self.owner}/{name}/{version}/{basename}"
        if self.api.get_json(f"/dist{where}", missing_ok=True) is not None:
            if self.args.skip_existing:
                return f"skipped {basename}: it exists already"
            if not self.args.force:
                raise ClientError(f"file {basename} already exists for {self.owner}/{name} {version} (use --force or --skip-existing)", 409)
            self.api.call("DELETE", f"/dist{where}", ok=(200,))
        if self.api.get_json(f"/package/{self.owner}/{name}", missing_ok=True) is None:
            summary = self.args.summary or info.summary or name
            self.api.call("POST", f"/package/{self.owner}/{name}", json={
                "public": not self.args.private, "publish": False,
                "public_attrs": {"summary": summary, "package_types": [ptype.name],
                                 "license": {"name": info.license or None, "url": None, "family": None}},
            })
        if self.api.get_json(f"/release/{self.owner}/{name}/{version}", missing_ok=True) is None:
            self.api.call("POST", f"/release/{self.owner}/{name}/{version}", json={
                "requirements": [], "announce": None, "description": self.args.description or info.description or None,
                "summary": self.args.summary or info.summary,
            })
        md5_b64, sha256, size = file_digests(path)
        staged = self.api.call("POST", f"/stage/{self.owner}/{name}/{version}/{quote(basename)}", json={
            "distribution_type": ptype.name, "description": self.args.description, "attrs": info.attrs,
            "dependencies": info.dependencies, "channels": self.args.label or [], "sha256": sha256,
        }).json()
        fields = dict(staged["form_data"])
        fields.update({"Content-Length": str(size), "Content-MD5": md5_b64})
        progress = _progress(size, basename, not self.args.no_progress and size > (1 << 20))
        body = MultipartBody(fields, path, basename, progress)
        try:
            response = self.api.session.post(staged["post_url"], data=body, timeout=36000,
                                              headers={"Content-Type": body.content_type, "Authorization": ""})
        finally:
            if progress is not None:
                progress.close()
        if response.status_code != 201:
            raise ClientError(f"the upload of {basename} failed ({response.status_code}): {response.text[:300]}", response.status_code)
        committed = self.api.call("POST", f"/commit/{self.owner}/{name}/{version}/{quote(basename)}",
                                  json={"dist_id": staged["dist_id"]}).json()
        return f"uploaded {basename} ({ptype.name}) to {committed.get('url') or f'{self.owner}/{name}'}"


def cmd_upload(args) -> int:
    api = api_for(args)
    api.check_server()
    if "Authorization" not in api.session.headers:
        raise ClientError("not logged in: run `anaconda login` (or pass --token)")
    owner = args.user or api.get_json("/user")["login"]
    if args.user and api.get_json(f"/user/{args.user}", missing_ok=True) is None:
        raise ClientError(f"user {args.user!r} does not exist")
    uploader = Uploader(args, api, owner)
    failures = 0
    for item in args.files:
        path = Path(item)
        temp = None
        try:
            if path.is_dir():
                ptype = uploader.directory_type()
                temp, display = ptype.pack_directory(path.resolve())
                args.package_type = ptype.name
                message = uploader.upload(temp, display)
            elif path.is_file():
                message = uploader.upload(path, path.name)
            else:
                raise ClientError(f"{item}: no such file or directory")
            print(message)
        except (ClientError, InvalidPackage) as exc:
            failures += 1
            print(f"anarepo: error: {item}: {exc}", file=sys.stderr)
        finally:
            if temp is not None:
                temp.unlink(missing_ok=True)
    return 1 if failures else 0


def latest_files(package: dict, version: str | None, types) -> list[dict]:
    """The files (API entries) of ``package`` (its API JSON) of ``types`` (all when
    empty) in ``version``, else in its newest version."""
    files = [f for f in package.get("files", []) if not types or f.get("type") in types]
    if version:
        return [f for f in files if f.get("version") == version]
    if not files:
        return []
    from ..versions import version_key

    newest = max((f["version"] for f in files), key=version_key)
    return [f for f in files if f["version"] == newest]


def fetch(api: Api, owner, name, entry, target: Path, show_progress: bool) -> None:
    """Download one file (an API entry) of ``owner/name`` to ``target``."""
    response = api.call("GET", f"/download/{owner}/{name}/{entry['version']}/{entry['basename']}",
                        ok=(200, 302), allow_redirects=False, stream=True)
    if response.status_code == 302:
        response = api.session.get(response.headers["Location"], stream=True, timeout=36000,
                                   headers={"Authorization": ""})
        if response.status_code != 200:
            raise ClientError(f"download of {entry['basename']} failed ({response.status_code})")
    target.parent.mkdir(parents=True, exist_ok=True)
    progress = _progress(int(entry.get("size") or 0), entry["basename"], show_progress)
    with open(target, "wb") as out:
        for chunk in response.iter_content(1 << 20):
            out.write(chunk)
            if progress is not None:
                progress.update(len(chunk))
    if progress is not None:
        progress.close()


def cmd_download(args) -> int:
    api = api_for(args)
    owner, _, rest = args.spec.partition("/")
    name, _, version = rest.partition("/")
    if not owner or not name:
        raise ClientError("give OWNER/PACKAGE[/VERSION]")
    package = api.get_json(f"/package/{owner}/{name}")
    entries = latest_files(package, version or None, set(args.package_type or ()))
    if not entries:
        raise ClientError(f"no matching files in {owner}/{name}")
    out = Path(args.output)
    for entry in entries:
        target = out / entry["basename"]
        if target.exists() and not args.force:
            raise ClientError(f"{target} exists (use --force)")
        fetch(api, owner, name, entry, target, not args.no_progress)
        print(f"downloaded {target}")
    return 0


def add_common(parser) -> None:
    parser.add_argument("--url", help="the API URL (default: anaconda-client's configured url)")
    parser.add_argument("-s", "--site", help="a site alias from anaconda-client's configuration")
    parser.add_argument("-t", "--token", help="a token, or a file holding one (default: anaconda login's)")
    parser.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_client_commands(sub) -> None:
    up = sub.add_parser("upload", help="upload files or project directories (any package type)")
    up.add_argument("files", nargs="+", metavar="FILE_OR_DIR")
    up.add_argument("-u", "--user", help="the owner (user or organization) to upload to")
    up.add_argument("-l", "--label", action="append", help="label(s) (default: main)")
    up.add_argument("-p", "--package", help="package name (required for plain files)")
    up.add_argument("-v", "--version", help="version (required for plain files)")
    up.add_argument("--package-type", "--type", dest="package_type", help="the package type (default: detected from the file)")
    up.add_argument("--summary")
    up.add_argument("-d", "--description")
    up.add_argument("--private", action="store_true")
    mode = up.add_mutually_exclusive_group()
    mode.add_argument("--force", action="store_true", help="replace an existing file")
    mode.add_argument("--skip-existing", action="store_true", help="skip files that exist")
    add_common(up)
    up.set_defaults(client_command=cmd_upload)

    down = sub.add_parser("download", help="download the newest files of a package")
    down.add_argument("spec", metavar="OWNER/PACKAGE[/VERSION]")
    down.add_argument("-o", "--output", default=".")
    down.add_argument("--package-type", "--type", dest="package_type", action="append")
    down.add_argument("-f", "--force", action="store_true")
    add_common(down)
    down.set_defaults(client_command=cmd_download)
