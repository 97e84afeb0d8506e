"""Signing tests in through the real login page (no bypass exists in the app)."""

from __future__ import annotations

import secrets

from streamlit.testing.v1 import AppTest

from auth.demo import demo_passwords
from auth.model import Scope, User
from auth.passwords import hash_password
from data.store import GeoPackageStore, open_store

_PASSWORDS: dict[tuple[str, str], str] = {}


def make_user(
    store: GeoPackageStore, role: str = "planner", scope: str = "city"
) -> tuple[str, str]:
    """A user of `role` and `scope` in `store` (the demo account when it fits): name, password."""
    demo = demo_passwords(store.meta())
    name = f"demo_{role}"
    if scope == "city" and name in demo:
        found = store.accounts().get_user(name)
        if found and found[0].scope.is_city:
            return name, demo[name]
    name = f"test_{role}_{abs(hash(scope)) % 10**6}"
    key = (str(store.path), name)
    found = store.accounts().get_user(name)
    if key not in _PASSWORDS or found is None:
        _PASSWORDS[key] = secrets.token_urlsafe(12)
        user = User(name, f"Test {role}", role, Scope.parse(scope))
        store.accounts().put_user(user, password_hash=hash_password(_PASSWORDS[key]))
    return name, _PASSWORDS[key]


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    """Fill in and submit the login form of `at`; assert it worked."""
    at.run()
    assert not at.exception, at.exception
    at.text_input(key="login_user").input(name)
    at.text_input(key="login_password").input(password)
    at.button(key="login_submit").click().run()
    assert not at.exception, at.exception
    assert at.session_state["auth_user"] is not None, [e.value for e in at.error]
    return at


def signed_in_app(
    script: str,
    *,
    role: str = "planner",
    scope: str = "city",
    default_timeout: float = 120,
    query: dict[str, str] | None = None,
) -> AppTest:
    """An AppTest of `script` (app.py) signed in as `role` with `scope` on the active store.

    The session is opened by :func:`auth.sessions.sign_in` (what the login page calls) and its
    token handed to the app as the browser's cookie would be: the app validates it against
    the store like any other. Not yet run, so the first run is the page the test asks for.
    `query` is the URL's query (``?lang=en``).
    """
    from auth.sessions import sign_in as open_session
    from geo.settings import load_profile

    store = open_store()
    name, password = make_user(store, role, scope)
    signed = open_session(
        store.accounts(), name, password, client="apptest", settings=load_profile().security
    )
    at = AppTest.from_file(script, default_timeout=default_timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.session_state["auth_token"] = signed.token
    return at
