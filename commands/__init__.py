"""CLI subcommands. Each module defines ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``."""

COMMANDS = {
    "demo": "commands.demo",
    "import": "commands.import_file",
    "check": "commands.check",
    "gaps": "commands.gaps",
    "snapshot": "commands.snapshot",
    "report": "commands.report",
    "db": "commands.db",
    "users": "commands.users",
}
