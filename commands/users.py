"""``python cli.py users add|list|set-role|set-scope|disable|enable|reset-password``.

    python cli.py users add NAME --role admin              # password asked twice
    printf '%s\\n' "$PASSWORD" | python cli.py users add NAME --role worker \\
        --scope grids:420302001001001 --password-stdin
    python cli.py users list --json
    python cli.py users set-scope NAME street:武当路街道

There is no built-in default password: a new password is asked (or read from stdin with
``--password-stdin``). Every change is written to the audit log; changing a user's role, scope,
password or disabling them ends their sessions.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from auth.model import ROLES, AuthError, PermissionDenied, Scope, User
from auth.passwords import WeakPassword, check_strength, hash_password
from auth.storage import AuditEntry
from commands._users import UnknownUser, acting_user, add_as_argument, refuse
from data.store import StoreError, open_store

HELP = "manage the users of the store (add, list, set-role, set-scope, disable, reset-password)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store", default=None, help="store (default: $GRIDMAP_STORE or the demo store)"
    )
    add_as_argument(parser)
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a user (password asked, or --password-stdin)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=list(ROLES))
    add.add_argument(
        "--scope",
        default="city",
        help="city | district:NAME | street:NAME | "
        "community:NAME | grids:CODE,CODE (default: city)",
    )
    add.add_argument("--display-name", default=None, help="name shown in the app")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    lst = sub.add_parser("list", help="list users (never their password hashes)")
    lst.add_argument("--json", action="store_true")
    role = sub.add_parser("set-role", help="change a user's role")
    role.add_argument("name")
    role.add_argument("role", choices=list(ROLES))
    scope = sub.add_parser("set-scope", help="change a user's scope")
    scope.add_argument("name")
    scope.add_argument("scope")
    for action, text in (("disable", "disable a user"), ("enable", "enable a disabled user")):
        p = sub.add_parser(action, help=text)
        p.add_argument("name")
    reset = sub.add_parser("reset-password", help="set a new password (asked, or --password-stdin)")
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true")


def read_password(*, from_stdin: bool, user_name: str) -> str:
    """A new password from stdin (first line) or asked twice on the terminal; checked."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"new password for {user_name}: ")
        if getpass.getpass("again: ") != password:
            raise WeakPassword("the two passwords differ")
    check_strength(password, user_name=user_name)
    return password


def run(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    if not store.exists():
        print(f"users: store {store.path} does not exist", file=sys.stderr)
        return 2
    try:
        # listing needs no right beyond being a user; every change needs manage_users
        action = None if args.action == "list" else "manage_users"
        actor = acting_user(store, args.as_user, action)
        return _run(store, args, actor)
    except (UnknownUser, PermissionDenied) as exc:
        return refuse("users", exc)
    except (AuthError, WeakPassword, StoreError, LookupError) as exc:
        print(f"users: {exc}", file=sys.stderr)
        return 2


def _get(accounts, name: str) -> User:
    found = accounts.get_user(name)
    if found is None:
        raise LookupError(f"no user {name!r}")
    return found[0]


def _describe(user: User) -> dict:
    return {
        "name": user.name,
        "display_name": user.display_name,
        "role": user.role,
        "scope": str(user.scope),
        "disabled": user.disabled,
        "demo": user.demo,
    }


def _run(store, args: argparse.Namespace, actor: User | None) -> int:
    accounts = store.accounts()
    if args.action == "list":
        users = [_describe(u) for u in accounts.list_users()]
        if args.json:
            print(json.dumps(users, ensure_ascii=False, indent=2))
        else:
            for u in users:
                flags = " (disabled)" if u["disabled"] else ""
                flags += " (demo)" if u["demo"] else ""
                print(f"{u['name']:<24} {u['role']:<8} {u['scope']:<30} {u['display_name']}{flags}")
        return 0
    if args.action == "add":
        if accounts.get_user(args.name) is not None:
            raise LookupError(
                f"user {args.name!r} exists; use set-role, set-scope or reset-password"
            )
        user = User(args.name, args.display_name or args.name, args.role, Scope.parse(args.scope))
        password = read_password(from_stdin=args.password_stdin, user_name=user.name)
        accounts.put_user(user, password_hash=hash_password(password))
        accounts.append_audit([AuditEntry.by(actor, "user_add", detail={"user": _describe(user)})])
        print(f"added {user.name} ({user.role}, {user.scope})")
        return 0
    before = _get(accounts, args.name)
    password_hash = None
    if args.action == "set-role":
        after = User(
            before.name, before.display_name, args.role, before.scope, before.disabled, before.demo
        )
    elif args.action == "set-scope":
        after = User(
            before.name,
            before.display_name,
            before.role,
            Scope.parse(args.scope),
            before.disabled,
            before.demo,
        )
    elif args.action in ("disable", "enable"):
        after = User(
            before.name,
            before.display_name,
            before.role,
            before.scope,
            args.action == "disable",
            before.demo,
        )
    else:  # reset-password
        after = before
        password_hash = hash_password(
            read_password(from_stdin=args.password_stdin, user_name=before.name)
        )
    accounts.put_user(after, password_hash=password_hash)
    accounts.delete_sessions_of(before.name)
    detail = {
        "user": before.name,
        "change": args.action,
        "before": _describe(before),
        "after": _describe(after),
    }
    accounts.append_audit([AuditEntry.by(actor, "user_change", detail=detail)])
    print(
        f"{args.action}: {before.name} -> {after.role}, {after.scope}{', disabled' if after.disabled else ''}"
    )
    return 0
