"""Plugins add operator commands (``PackageType.add_cli_commands``): ``anarepo import``
is the conda plugin's, listed in the help; core commands parse without loading plugins."""
from anarepo import cli


def test_plugin_commands_are_in_the_help_and_parse():
    parser = cli.build_parser()
    assert "import" in parser.command_names and "bulk-load a conda channel directory" in parser.format_help()
    args = parser.parse_args(["-c", "x.ini", "import", "chan", "--owner", "alice", "--batch", "7"])
    assert (args.command, args.owner, args.batch) == ("import", "alice", 7)
    assert "import" in cli.COMMANDS  # registered by the plugin, run with the server's registry


def test_core_commands_parse_without_the_plugins():
    assert cli._core_command(["-c", "x.ini", "user", "list"])
    assert not cli._core_command(["-c", "x.ini", "import", "chan"])  # a plugin's: load them
    assert not cli._core_command(["--help"])  # the help lists every command
    assert "import" not in cli.build_parser(plugin_commands=False).command_names
