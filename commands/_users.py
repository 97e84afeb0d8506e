"""``--as USER`` for commands that act for a user: their rights and scope apply.

Without ``--as`` a command runs as the operator of the machine (who can read the store file
anyway) and its audit rows name ``cli``.
"""

from __future__ import annotations

import argparse
import sys

from auth.model import User, require

REFUSED = 3
"""Exit status of a command refused for its user (unknown ``--as`` user, role or scope)."""


class UnknownUser(LookupError):
    """``--as`` names no user of the store, or a disabled one."""


def add_as_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as",
        dest="as_user",
        metavar="USER",
        default=None,
        help="act as this user of the store: their role and scope apply and the audit names them",
    )


def acting_user(store, name: str | None, action: str | None = None) -> User | None:
    """The enabled user called `name` in `store`, or None without ``--as``.

    With `action`, the user must be allowed it (:func:`auth.model.require` raises
    ``PermissionDenied`` otherwise).
    """
    if name is None:
        return None
    found = store.accounts().get_user(name) if store.exists() else None
    if found is None or found[0].disabled:
        raise UnknownUser(f"--as {name}: no such enabled user in {store}")
    if action is not None:
        require(found[0], action)
    return found[0]


def refuse(command: str, exc: Exception) -> int:
    """Say on stderr why `command` was refused (``<command> refused: <reason>``, e.g. an
    unknown ``--as`` user or a missing permission) and return :data:`REFUSED`, the exit status."""
    print(f"{command} refused: {exc}", file=sys.stderr)
    return REFUSED
