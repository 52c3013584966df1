"""``anarepo``: the operator's command line.

Server-side commands open the database named in an .ini file (``-c``, default
``development.ini``) and work in their own transactions::

    anarepo -c development.ini init
    anarepo -c development.ini user add alice --email a@example.com --password-stdin [--admin]
    anarepo -c development.ini user list
    anarepo -c development.ini token create alice --name ci --scopes conda:download
    anarepo -c development.ini evolve [--dry-run]
    anarepo -c development.ini oidc rotate-key                      (new OpenID Connect signing key)
    anarepo -c development.ini pack [--days N]
    anarepo -c development.ini import DIR [--owner O] [--label L]   (a conda channel directory: the
                                                                    conda plugin's command, PackageType.add_cli_commands)
    anarepo -c development.ini reindex [--check] [--reinspect]     (rebuild every index: conda, PyPI, R;
                                                                    --check also verifies every blob)
    anarepo -c development.ini gc [--no-pack] [--days N] [--grace S] (remove crash and refusal debris)
    anarepo -c production.ini serve [--port P | --listen H:P] [--workers N]   (docs/operations.md)
    anarepo gen-config [all|nginx|systemd|zeo|zodb|ini] --dir DIR ...           (a site's config files)

Errors print one line on stderr and exit non-zero (2 for usage, 1 otherwise).
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings

warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

from pyramid.paster import get_appsettings, setup_logging  # noqa: E402


class CommandError(Exception):
    """A user-facing failure: printed without a traceback, exit status 1."""


# -- registry: each server command is a function (args, registry) -------------
COMMANDS = {}


def command(name):
    def register(func):
        COMMANDS[name] = func
        return func

    return register


def load_registry(ini: str):
    """Build the application (opening the database) from an .ini file."""
    if not os.path.exists(ini):
        raise CommandError(f"configuration file {ini!r} not found (use -c INI)")
    from ZODB.POSException import StorageError
    from zc.lockfile import LockError

    from . import finish_startup, make_config
    from .startup import StartupError

    settings = get_appsettings(ini, name="main")
    try:
        config = make_config(dict(settings))
        config.commit()
        finish_startup(config.registry)
    except (LockError, StorageError) as exc:
        raise CommandError(
            f"can not open the database ({exc}); is a server using it? Stop it,"
            " or run the server on ZEO (production.ini) to share the database"
        ) from exc
    except StartupError as exc:
        raise CommandError(str(exc)) from exc
    return config.registry


def read_secret_from_stdin(what: str) -> str:
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise CommandError(f"no {what} on standard input")
    return value


@command("init")
def cmd_init(args, registry):
    from .db import open_root

    with open_root(registry) as root:
        print(f"database ready: {len(root.owners)} owners, {len(root.tokens)} tokens")


@command("user add")
def cmd_user_add(args, registry):
    from .services.accounts import create_user
    from .db import open_root
    from .names import InvalidName, reserved_owner_names
    from .errors import PublishError
    from .security.passwords import WeakPassword

    password = read_secret_from_stdin("password") if args.password_stdin else None
    if password is None:
        raise CommandError("give the password on standard input with --password-stdin")
    try:
        with open_root(registry, f"anarepo user add {args.name}") as root:
            user = create_user(root, args.name, args.email, password, is_admin=args.admin,
                               reserved=reserved_owner_names(registry))
            login = user.login
    except (InvalidName, WeakPassword, PublishError) as exc:
        raise CommandError(str(exc)) from exc
    print(f"created user {login}{' (site admin)' if args.admin else ''}")


@command("user list")
def cmd_user_list(args, registry):
    from .db import open_root

    with open_root(registry) as root:
        for user in root.users():
            flags = " admin" if user.is_admin else ""
            print(f"{user.login}\t{user.email}\t{user.created:%Y-%m-%d}{flags}")


@command("token create")
def cmd_token_create(args, registry):
    from .db import open_root
    from .security.permissions import InvalidScope, scope_table
    from .security.tokens import TokenError, create_token

    max_age = args.expires_days * 86400 if args.expires_days else None
    try:
        with open_root(registry, f"anarepo token create {args.user}") as root:
            user = root.get_owner(args.user)
            if user is None or user.kind != "user":
                raise CommandError(f"no user named {args.user!r}")
            if args.org:
                org = root.get_owner(args.org)
                if org is None or org.kind != "org" or user.login not in org.owners:
                    raise CommandError(f"{user.login} is not an owner of an organization {args.org!r}")
            raw, _ = create_token(
                root, user, args.name, args.scopes or None, max_age=max_age,
                org=args.org.lower() if args.org else None, hostname="anarepo-cli",
                known_scopes=scope_table(registry),
            )
    except (TokenError, InvalidScope) as exc:
        raise CommandError(str(exc)) from exc
    print(raw)


@command("oidc rotate-key")
def cmd_oidc_rotate_key(args, registry):
    """A new signing key for the OpenID Connect provider; the old one stays published a day."""
    from .db import open_root
    from .security.oidc_provider import rotate_signing_key

    with open_root(registry, "anarepo oidc rotate-key") as root:
        kid = rotate_signing_key(root)
    print(f"new signing key {kid}")


@command("evolve")
def cmd_evolve(args, registry):
    from .evolve import evolve

    done = evolve(registry, dry_run=args.dry_run)
    verb = "would run" if args.dry_run else "ran"
    print(f"{verb} {len(done)} evolve step(s)" + "".join(f"\n  {n}" for n in done))


@command("pack")
def cmd_pack(args, registry):
    import time

    from .db import get_db

    get_db(registry).pack(time.time() - args.days * 86400)
    print("packed")


@command("gc")
def cmd_gc(args, registry):
    """Remove partial uploads, expired stages, blobs no record references; say what went."""
    from .db import get_db
    from .services.housekeeping import collect

    report = collect(get_db(registry), grace=args.grace, pack=not args.no_pack, pack_days=args.days,
                     report=registry.anarepo_startup_cleanup)  # start-up removed temporary files already
    for line in report.lines():
        print(line)
    if args.verbose:
        for path in report.removed:
            print(f"  {path}")


@command("reindex")
def cmd_reindex(args, registry):
    """Rebuild every type's index state from the stored files; say whether it equals the kept state."""
    from tqdm import tqdm

    from .services.reindex import indexed_types, reindex

    with tqdm(unit="package", desc="reindex", disable=args.quiet) as bar:
        count, differing = reindex(registry, check_only=args.check, reinspect=args.reinspect, progress=bar.update)
    state = "identical to" if not differing else "different from"
    kinds = ", ".join(t.name for t in indexed_types(registry))
    print(f"reindexed {count} package index(es) ({kinds}); the rebuilt index is {state} the kept one"
          + (f" (differing: {', '.join(differing)})" if differing else ""))
    from .db import open_root

    with open_root(registry, "reindex: problems a rebuild can not fix") as root:
        unfixable = [line for ptype in registry.package_types.ordered() for line in ptype.index_problems(root)]
    for line in unfixable:
        print(line, file=sys.stderr)
    problems = []
    if args.check:
        from .db import get_db
        from .services.housekeeping import verify_blobs

        with tqdm(unit="file", desc="verify blobs", disable=args.quiet) as bar:
            checked, problems = verify_blobs(get_db(registry), progress=bar.update)
        print(f"verified {checked} file(s): {len(problems)} missing or damaged")
        for problem in problems:
            print(f"  {problem.path}: {problem.problem}", file=sys.stderr)
    if args.check and differing:
        raise CommandError("the kept index differs from the stored files (run without --check to rebuild it)")
    if args.check and unfixable:
        raise CommandError(f"{len(unfixable)} problem(s) a rebuild can not fix, first: {unfixable[0]}")
    if problems:
        raise CommandError(f"{len(problems)} stored file(s) are missing or damaged")


def build_parser(plugin_commands: bool = True) -> argparse.ArgumentParser:
    """The whole command line; ``plugin_commands=False`` leaves out the plugins'
    commands (loading every plugin costs a second: see :func:`main`)."""
    parser = argparse.ArgumentParser(prog="anarepo", description="anarepo repository server administration")
    parser.add_argument("-c", "--config", default="development.ini", help="the .ini file (default: development.ini)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    sub.add_parser("init", help="create the database if needed")

    user = sub.add_parser("user", help="manage users").add_subparsers(dest="action", metavar="ACTION")
    user.required = True
    add = user.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--email", required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--admin", action="store_true", help="make the user a site administrator")
    user.add_parser("list", help="list users")

    token = sub.add_parser("token", help="manage tokens").add_subparsers(dest="action", metavar="ACTION")
    token.required = True
    create = token.add_parser("create", help="create a token and print it")
    create.add_argument("user")
    create.add_argument("--name", required=True)
    create.add_argument("--scopes", nargs="*", default=[], help="scopes (default: all)")
    create.add_argument("--org", help="restrict the token to an organization the user owns")
    create.add_argument("--expires-days", type=int, default=0)

    oidc = sub.add_parser("oidc", help="the OpenID Connect provider").add_subparsers(dest="action", metavar="ACTION")
    oidc.required = True
    oidc.add_parser("rotate-key", help="make a new signing key (the old one stays in the JWKS for a day)")

    evolve = sub.add_parser("evolve", help="run pending schema evolution steps")
    evolve.add_argument("--dry-run", action="store_true")

    pack = sub.add_parser("pack", help="pack the database (drop old revisions)")
    pack.add_argument("--days", type=float, default=0.0)

    gc = sub.add_parser("gc", help="remove partial uploads, expired stages and blob files no record references")
    gc.add_argument("--no-pack", action="store_true", help="do not pack the database (blobs of dropped stages stay)")
    gc.add_argument("--days", type=float, default=0.0, help="history kept by the pack, in days (default: 0)")
    gc.add_argument("--grace", type=float, default=None,
                    help="only files older than this many seconds (default: 0 on an embedded FileStorage,"
                         " 3600 when other processes may be writing)")
    gc.add_argument("-v", "--verbose", action="store_true", help="list every removed file")

    reidx = sub.add_parser("reindex", help="rebuild every type's index state from the stored files")
    reidx.add_argument("--check", action="store_true",
                       help="only compare with the kept state and verify every stored file; change nothing")
    reidx.add_argument("--reinspect", action="store_true", help="read the metadata again from every file")
    reidx.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    serve = sub.add_parser("serve", help="run waitress worker processes on one port (graceful restart on SIGHUP)")
    serve.add_argument("--port", type=int, help="the port (default: the .ini's [server:main] listen)")
    serve.add_argument("--listen", help="HOST:PORT (default: the .ini's [server:main] listen)")
    serve.add_argument("--workers", type=int, default=1, help="processes sharing the port (default: 1)")
    serve.add_argument("--graceful-timeout", type=float, default=30.0,
                       help="seconds a stopping worker may finish its requests (default: 30)")
    serve.set_defaults(standalone=_cmd_serve)

    gen = sub.add_parser("gen-config", help="write a site's configuration: ZEO/RelStorage, app, nginx, systemd")
    gen.add_argument("what", nargs="?", default="all", choices=("all", "nginx", "systemd", "zeo", "zodb", "ini"))
    gen.add_argument("--dir", required=True, help="where to write the files")
    gen.add_argument("--var", help="data directory: Data.fs, blobs (default: DIR/var)")
    gen.add_argument("--backend", default="zeo", choices=("zeo", "relstorage"))
    gen.add_argument("--server-name", default="localhost")
    gen.add_argument("--ports", default="6543,6544", help="app process ports, comma-separated")
    gen.add_argument("--zeo-address", default="127.0.0.1:8100")
    gen.add_argument("--dsn", default="dbname='anarepo' user='anarepo' password='secret' host='127.0.0.1'",
                     help="PostgreSQL DSN for RelStorage")
    gen.add_argument("--listen", default="443 ssl", help="nginx listen directive (default: '443 ssl')")
    gen.add_argument("--ssl-certificate", default="/etc/ssl/certs/anarepo.pem")
    gen.add_argument("--ssl-certificate-key", default="/etc/ssl/private/anarepo.key")
    gen.add_argument("--no-x-accel", action="store_true", help="the app sends file bytes itself")
    gen.add_argument("--user", default="anarepo", help="system user of the services")
    gen.set_defaults(standalone=_cmd_gen_config)
    from .client.commands import add_client_commands
    from .plugins import standalone_registry
    from .sources.cli import add_mirror_commands

    # the plugins' own commands (``anarepo import`` is the conda plugin's)
    for ptype in standalone_registry().package_types.ordered() if plugin_commands else ():
        ptype.add_cli_commands(sub, command)

    add_mirror_commands(sub)
    add_client_commands(sub)
    parser.command_names = set(sub.choices)
    return parser


def _cmd_serve(args) -> int:
    from .deploy.serve import serve

    ini = os.path.abspath(args.config)
    if not os.path.exists(ini):
        raise CommandError(f"configuration file {ini!r} not found (use -c INI)")
    if args.workers < 1:
        raise CommandError("--workers must be at least 1")
    setup_logging(ini)
    return serve(ini, listen=args.listen, port=args.port, workers=args.workers,
                 graceful_timeout=args.graceful_timeout)


def _cmd_gen_config(args) -> int:
    from .deploy.config import Site, generate

    out = os.path.abspath(args.dir)
    try:
        ports = [int(p) for p in args.ports.split(",") if p.strip()]
    except ValueError:
        raise CommandError(f"--ports must be numbers separated by commas, not {args.ports!r}") from None
    if not ports:
        raise CommandError("--ports names no port")
    site = Site(out=out, var=os.path.abspath(args.var or os.path.join(out, "var")), backend=args.backend,
                server_name=args.server_name, ports=ports, zeo_address=args.zeo_address, dsn=args.dsn,
                listen=args.listen, ssl_certificate=args.ssl_certificate,
                ssl_certificate_key=args.ssl_certificate_key, x_accel=not args.no_x_accel, user=args.user)
    for path in generate(site, args.what):
        print(path)
    return 0


def _run_client(command, args) -> int:
    """Client commands talk to a server over HTTP; their errors are one line too."""
    from .client.api import ClientError
    from .plugins import InvalidPackage

    try:
        return command(args) or 0
    except (ClientError, InvalidPackage) as exc:
        print(f"anarepo: error: {exc}", file=sys.stderr)
        return 1


def _core_command(argv) -> bool:
    """Whether ``argv`` runs a command of the core (no help asked): then the plugins'
    commands need not be loaded to parse it."""
    if any(a in ("-h", "--help") for a in argv):
        return False
    core = build_parser(plugin_commands=False).command_names
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in ("-c", "--config") and rest:
            rest.pop(0)
    return bool(rest) and rest[0] in core


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(plugin_commands=not _core_command(argv))
    args = parser.parse_args(argv)
    name = args.command + (f" {args.action}" if getattr(args, "action", None) else "")
    client_command = getattr(args, "client_command", None)
    standalone = getattr(args, "standalone", None)
    try:
        if client_command is not None:
            return _run_client(client_command, args)
        if standalone is not None:
            return standalone(args)
        func = COMMANDS[name]
        ini = os.path.abspath(args.config)
        if os.path.exists(ini):
            setup_logging(ini)
        registry = load_registry(ini)
        func(args, registry)
    except CommandError as exc:
        print(f"anarepo: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
