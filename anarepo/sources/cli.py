"""``anarepo -c INI mirror add|list|label-filter|remove|sync|export|import``: sources from the operator's command line.

    anarepo mirror add OWNER NAME --kind conda --url URL [--mode proxy] [--label L]
                   [--subdir linux-64 ...] [--filter names=numpy,scipy --filter latest=3 ...]
                   [--auth bearer|basic|token --secret-stdin [--user U]] [--remove-missing] [--merge-local]
    anarepo mirror list OWNER
    anarepo mirror label-filter OWNER LABEL --kind conda [--filter KEY=VALUE ...]   (none: clear)
    anarepo mirror remove OWNER NAME
    anarepo mirror sync OWNER NAME [--workers 4] [--force] [-q]
    anarepo mirror sync --all                     (every source of every owner: the schedule, from cron)
    anarepo mirror export OWNER NAME DIR          (a self-verifying bundle of what the source brought)
    anarepo mirror import OWNER DIR [--label L]   (on the offline server)

A secret is read from standard input only (never an argument: it would show in
``ps`` and shell history) and is never printed again.
"""
from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager

from ..cli import CommandError, command, read_secret_from_stdin
from .filters import parse_filters
from .model import SourceError

log = logging.getLogger(__name__)

@contextmanager
def _owner(registry, login: str, note: str | None = None):
    """The named owner in a committed transaction; refusals become one-line CLI errors."""
    from ..db import open_root

    try:
        with open_root(registry, note) as root:
            owner = root.get_owner(login)
            if owner is None:
                raise CommandError(f"no owner named {login!r}")
            yield owner
    except SourceError as exc:
        raise CommandError(str(exc)) from exc


@command("mirror add")
def cmd_mirror_add(args, registry):
    from .service import add_source

    secret = read_secret_from_stdin("secret") if args.secret_stdin else ""
    with _owner(registry, args.owner, f"anarepo mirror add {args.owner}/{args.name}") as owner:
        source = add_source(owner, args.name, args.kind, args.url, registry=registry, mode=args.mode, label=args.label,
                            subdirs=args.subdir or (), filters=parse_filters(args.filter),
                            remove_missing=args.remove_missing, merge_local=args.merge_local, ttl=args.ttl, allow_hosts=args.allow_host or (),
                            auth=args.auth, secret=secret, user=args.user or "")
        described = source.describe()
    print(f"added {args.kind} {described['mode']} {args.owner}/{described['name']} -> label {described['label']}")


@command("mirror list")
def cmd_mirror_list(args, registry):
    with _owner(registry, args.owner) as owner:
        described = [s.describe() for s in owner.sources.values()]
    if args.json:
        print(json.dumps(described, indent=2))
        return
    for d in described:
        last = d["last_run"] or {}
        print(f"{d['name']}\t{d['kind']}\t{d['mode']}\t{d['url']}\tlabel={d['label']}\tfiles={d['files']}"
              f"\tauth={d['auth']}\tlast={last.get('finished', '-')}")


@command("mirror label-filter")
def cmd_mirror_label_filter(args, registry):
    from .service import set_label_filters

    with _owner(registry, args.owner, f"anarepo mirror label-filter {args.owner}/{args.label}") as owner:
        current = set_label_filters(owner, args.label, args.kind, parse_filters(args.filter))
    print(f"label {args.owner}/{args.label}: {json.dumps(current.get(args.kind, {}))}")


@command("mirror remove")
def cmd_mirror_remove(args, registry):
    from .service import remove_source

    with _owner(registry, args.owner, f"anarepo mirror remove {args.owner}/{args.name}") as owner:
        remove_source(owner, args.name)
    print(f"removed source {args.owner}/{args.name} (its packages stay)")


@command("mirror sync")
def cmd_mirror_sync(args, registry):
    """One source, or with --all every source of every owner (for cron / a systemd timer)."""
    from ..db import open_root

    if args.all:
        with open_root(registry) as root:
            targets = [(o.login, s.name) for o in root.owners.values() for s in o.sources.values()]
    elif args.owner and args.name:
        targets = [(args.owner, args.name)]
    else:
        raise CommandError("give OWNER NAME, or --all")
    failed = broken = 0
    for owner, name in targets:
        try:
            failed += _sync_one(args, registry, owner, name)
        except CommandError as exc:
            if not args.all:
                raise
            broken += 1  # one source's trouble is its own: the schedule goes on with the others
            print(f"failed: {owner}/{name}: {exc}", file=sys.stderr)
        except Exception as exc:  # noqa: BLE001 - the same, for what nobody foresaw (logged whole)
            if not args.all:
                raise
            broken += 1
            log.exception("mirror sync %s/%s", owner, name)
            print(f"failed: {owner}/{name}: {type(exc).__name__} (see the log)", file=sys.stderr)
    if broken:
        raise CommandError(f"{broken} of {len(targets)} source(s) could not be synced, {failed} other problem(s);"
                           " the others were synced")
    if failed:
        raise CommandError(f"{failed} problem(s); the next sync retries them")


def _sync_one(args, registry, owner: str, name: str) -> int:
    from tqdm import tqdm

    from .sync import sync

    with tqdm(unit="file", desc=f"sync {owner}/{name}", disable=args.quiet, total=0) as bar:
        def progress(total=None, advance=0):
            if total is not None:
                bar.reset(total=total)
            if advance:
                bar.update(advance)

        try:
            run = sync(registry, owner, name, workers=args.workers, force=args.force, progress=progress)
        except SourceError as exc:
            raise CommandError(str(exc)) from exc
    for message in run["errors"]:
        print(f"failed: {owner}/{name}: {message}", file=sys.stderr)
    print(f"synced {owner}/{name}: added {run['added']}, removed {run['removed']},"
          f" patched {run['patched']}, unchanged {run['unchanged']}, failed {run['failed']} in {run['seconds']} s")
    return run["failed"]


def _with_bar(args, desc: str, work):
    """Run ``work(bar)`` under a tqdm bar; a SourceError becomes the CLI's one-line error."""
    from tqdm import tqdm

    with tqdm(unit="file", desc=desc, disable=args.quiet) as bar:
        try:
            return work(bar)
        except SourceError as exc:
            raise CommandError(str(exc)) from exc


@command("mirror export")
def cmd_mirror_export(args, registry):
    from .bundle import export_bundle

    count = _with_bar(args, f"export {args.owner}/{args.name}", lambda bar: export_bundle(
        registry, args.owner, args.name, args.directory, progress=bar.update))
    print(f"exported {count} file(s) of {args.owner}/{args.name} to {args.directory}")


@command("mirror import")
def cmd_mirror_import(args, registry):
    from .bundle import import_bundle

    run = _with_bar(args, f"import {args.owner}", lambda bar: import_bundle(
        registry, args.directory, args.owner, args.label, progress=bar.update))
    for message in run["errors"]:
        print(f"failed: {message}", file=sys.stderr)
    print(f"imported into {args.owner}: added {run['added']}, removed {run['removed']}, failed {run['failed']}")
    if run["failed"]:
        raise CommandError(f"{run['failed']} file(s) could not be imported")


def add_mirror_commands(sub) -> None:
    mirror = sub.add_parser("mirror", help="upstream sources: mirrors and proxies").add_subparsers(
        dest="action", metavar="ACTION")
    mirror.required = True
    add = mirror.add_parser("add", help="add an upstream source to an owner's label")
    add.add_argument("owner")
    add.add_argument("name")
    add.add_argument("--kind", required=True, choices=("conda", "pypi"))
    add.add_argument("--url", required=True, help="the channel's or index's base URL")
    add.add_argument("--mode", default="mirror", choices=("mirror", "proxy"))
    add.add_argument("--label", default="main")
    add.add_argument("--subdir", action="append", help="conda subdirs to read (default: noarch)")
    add.add_argument("--filter", action="append", metavar="KEY=VALUE",
                     help="names, exclude, specs (';'-separated), subdirs, platforms, builds, licenses,"
                          " latest, after, before, yanked")
    add.add_argument("--auth", default="none", choices=("none", "token", "bearer", "basic"))
    add.add_argument("--user", help="user name for --auth basic")
    add.add_argument("--secret-stdin", action="store_true", help="read the token or password from standard input")
    add.add_argument("--remove-missing", action="store_true", help="remove files that left the filter or upstream")
    add.add_argument("--merge-local", action="store_true",
                     help="let upstream files join packages that hold local uploads (off: local names shadow upstream ones)")
    add.add_argument("--ttl", type=int, default=600, help="proxy: seconds before an index is revalidated")
    add.add_argument("--allow-host", action="append", help="another host the upstream may redirect to")
    lst = mirror.add_parser("list", help="list an owner's sources")
    lst.add_argument("owner")
    lst.add_argument("--json", action="store_true")
    lf = mirror.add_parser("label-filter", help="filters every source of a kind feeding a label obeys")
    lf.add_argument("owner")
    lf.add_argument("label")
    lf.add_argument("--kind", required=True, choices=("conda", "pypi"))
    lf.add_argument("--filter", action="append", metavar="KEY=VALUE", help="none: clear the label's filters")
    rm = mirror.add_parser("remove", help="forget a source (its packages stay)")
    rm.add_argument("owner")
    rm.add_argument("name")
    sync = mirror.add_parser("sync", help="copy a source's filtered upstream into its label")
    sync.add_argument("owner", nargs="?")
    sync.add_argument("name", nargs="?")
    sync.add_argument("--all", action="store_true", help="every source of every owner (schedule it with cron)")
    sync.add_argument("--workers", type=int, default=4, help="parallel downloads (default: 4)")
    sync.add_argument("--force", action="store_true", help="re-read every upstream document")
    sync.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    exp = mirror.add_parser("export", help="write a source's current files as a self-verifying bundle")
    exp.add_argument("owner")
    exp.add_argument("name")
    exp.add_argument("directory")
    exp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    imp = mirror.add_parser("import", help="load a bundle (verified first) into an owner")
    imp.add_argument("owner")
    imp.add_argument("directory")
    imp.add_argument("--label", help="the label (default: the bundle's)")
    imp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
