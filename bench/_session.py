"""A signed-in session for the browser benches: a returning user whose browser holds a cookie.

The token comes from the real sign-in code path (auth.sessions.sign_in) against the store the
bench measures, so the app validates it like any other; the timings then start at the page load
of a signed-in user, not at the login form.
"""

from __future__ import annotations

from urllib.parse import urlparse

from auth.sessions import COOKIE, sign_in
from data.store import open_store
from geo.settings import load_profile


def session_token(store: str, name: str, password: str) -> str:
    """Open a session for `name` in `store` (a GeoPackage path or a postgresql:// URL)."""
    accounts = open_store(str(store)).accounts()
    signed = sign_in(accounts, name, password, client="bench", settings=load_profile().security)
    return signed.token


def demo_token(store: str, role: str = "planner") -> str:
    """A session of the demo store's account for `role` (the demo flag must be set)."""
    from auth.demo import demo_passwords

    passwords = demo_passwords(open_store(str(store)).meta())
    name = f"demo_{role}"
    if name not in passwords:
        raise SystemExit(f"{store}: no demo account {name}; make the store with `cli.py demo`")
    return session_token(store, name, passwords[name])


def cookie(base_url: str, token: str) -> dict:
    """The session cookie for Playwright's ``context.add_cookies``."""
    url = urlparse(base_url)
    return {"name": COOKIE, "value": token, "domain": url.hostname, "path": "/"}
