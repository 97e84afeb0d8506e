"""Demo accounts: one per role, in demo stores only, passwords made fresh for each store.

The passwords are kept in the store's metadata (``demo_accounts``) next to ``demo = true`` so
the login page can show them, which it does only for a store with that flag. A real store made
with ``cli.py import`` has neither; its first admin comes from ``cli.py users add``.
"""

from __future__ import annotations

import json
import secrets

import pandas as pd

from auth.model import ROLES, Scope, User
from auth.passwords import hash_password

DEMO_PREFIX = "demo_"
DEMO_META_KEYS = ("demo", "demo_accounts")
"""Metadata keys of the demo flag and the demo passwords: never copied to another store."""


def demo_users(grids: pd.DataFrame) -> list[User]:
    """One user per role; the worker gets the first grid, the staff its street."""
    first = grids.sort_values("grid_code").iloc[0]
    scopes = {
        "admin": Scope(),
        "planner": Scope(),
        "staff": Scope("street", (str(first["street"]),)),
        "worker": Scope("grids", (str(first["grid_code"]),)),
        "viewer": Scope(),
    }
    return [
        User(
            f"{DEMO_PREFIX}{role}",
            f"演示{zh} / Demo {en.lower()}",
            role,
            scopes[role],
            demo=True,
        )
        for role, (zh, en) in ROLES.items()
    ]


def new_passwords(users: list[User]) -> dict[str, str]:
    """A fresh random password per demo user."""
    return {u.name: secrets.token_urlsafe(9) for u in users}


def demo_meta(passwords: dict[str, str]) -> dict[str, str]:
    """Metadata keys that flag a store as the demo and hold its demo passwords."""
    return {"demo": "true", "demo_accounts": json.dumps(passwords)}


def create_users(store, users: list[User], passwords: dict[str, str]) -> None:
    accounts = store.accounts()
    for u in users:
        accounts.put_user(u, password_hash=hash_password(passwords[u.name]))


def add_demo_accounts(store) -> dict[str, str]:
    """Create the demo users in `store` and flag it as the demo. Returns name -> password."""
    users = demo_users(store.read("grids", columns=["grid_code", "street"]))
    passwords = new_passwords(users)
    store.write_meta(demo_meta(passwords))
    create_users(store, users, passwords)
    return passwords


def demo_passwords(meta: dict[str, str]) -> dict[str, str]:
    """Demo user -> password, only for a store flagged as the demo (else empty)."""
    if meta.get("demo") != "true":
        return {}
    try:
        return dict(json.loads(meta.get("demo_accounts", "{}")))
    except ValueError:
        return {}


def ensure_demo_accounts(store) -> None:
    """Give a synthetic store made before accounts existed its demo accounts (once)."""
    if not store.exists():
        return
    meta = store.meta()
    fresh = meta.get("synthetic") == "true" and meta.get("demo") != "true"
    if fresh and not store.accounts().list_users():
        add_demo_accounts(store)
