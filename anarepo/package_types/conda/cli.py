"""``anarepo import``: the conda plugin's operator command (``PackageType.add_cli_commands``)."""
from __future__ import annotations

import os
import sys


def add_commands(subparsers, command) -> None:
    imp = subparsers.add_parser("import", help="bulk-load a conda channel directory")
    imp.add_argument("directory", help="a channel directory: DIR/<subdir>/<package files>")
    imp.add_argument("--owner", help="the owner to import into (default: the directory name)")
    imp.add_argument("--label", default="main", help="the label (default: main)")
    imp.add_argument("--access", default="public", choices=("public", "authenticated", "private"),
                     help="access of packages created by the import (default: public)")
    imp.add_argument("--batch", type=int, default=500, help="files per transaction (default: 500)")
    imp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    command("import")(cmd_import)


def cmd_import(args, registry):
    """Bulk-load a conda channel directory (DIR/<subdir>/*.conda|*.tar.bz2) into an owner's label."""
    from tqdm import tqdm

    from ...plugins.api import CommandError, InvalidName
    from .admin import channel_files, import_channel

    directory = os.path.abspath(args.directory)
    if not os.path.isdir(directory):
        raise CommandError(f"{args.directory!r} is not a directory")
    owner = args.owner or os.path.basename(directory.rstrip("/"))
    total = len(channel_files(directory))
    with tqdm(total=total, unit="file", desc=f"import {owner}/{args.label}", disable=args.quiet) as bar:
        try:
            report = import_channel(registry, directory, owner, args.label, access=args.access,
                                    batch=args.batch, progress=bar.update)
        except (LookupError, InvalidName) as exc:
            raise CommandError(str(exc.args[0] if exc.args else exc)) from exc
    for path, message in report.failed:
        print(f"failed: {path}: {message}", file=sys.stderr)
    print(f"imported {report.published} file(s), labelled {report.labelled}, skipped {report.skipped},"
          f" failed {len(report.failed)}")
    if report.failed:
        raise CommandError(f"{len(report.failed)} file(s) could not be imported")
