"""``anarepo env create``: the ``env`` type's client command (``PackageType.add_cli_commands``)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from ...plugins.api import client

TYPE = "env"


def cmd_env_create(args) -> int:
    """Fetch ``OWNER/NAME``'s newest environment file and write what conda reads."""
    api = client.api_for(args)
    owner, _, name = args.spec.partition("/")
    if not owner or not name:
        raise client.ClientError("give OWNER/ENVIRONMENT")
    package = api.get_json(f"/package/{owner}/{name}")
    entries = client.latest_files(package, None, {TYPE})
    if not entries:
        raise client.ClientError(f"{owner}/{name} has no environment file")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "env.yml"
        client.fetch(api, owner, name, entries[0], raw, False)
        env = yaml.safe_load(raw.read_text())
    if args.name:
        env["name"] = args.name
    env.pop("prefix", None)
    target = Path(args.file or f"{env.get('name') or name}.yml")
    target.write_text(yaml.safe_dump(env, sort_keys=False))
    print(f"wrote {target}; create it with: conda env create -f {target}")
    if args.run:
        import subprocess

        return subprocess.call(["conda", "env", "create", "-f", str(target)])
    return 0


def add_commands(subparsers) -> None:
    env = subparsers.add_parser("env", help="conda environments").add_subparsers(dest="action", metavar="ACTION")
    env.required = True
    create = env.add_parser("create", help="write OWNER/NAME's environment file for conda")
    create.add_argument("spec", metavar="OWNER/NAME")
    create.add_argument("-n", "--name", help="name of the environment to create")
    create.add_argument("-f", "--file", help="where to write the file (default: NAME.yml)")
    create.add_argument("--run", action="store_true", help="then run `conda env create -f FILE`")
    client.add_common(create)
    create.set_defaults(client_command=cmd_env_create)
