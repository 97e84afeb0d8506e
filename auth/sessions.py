"""Signing in and out: password check, throttling, server-side sessions. No Streamlit here.

The browser keeps a random token in a cookie; the store keeps only its SHA-256 with the user
and an expiry (``auth_sessions``), so any app replica on the same store validates it, and a
stolen copy of the store holds no usable token.

Throttling counts failed sign-ins in the store over ``security.failure_window_minutes``: a user
name is refused after ``max_failures_per_user`` failures, a client address after
``max_failures_per_client``, until the oldest failures leave the window. While throttled, the
password is not even checked (so guessing gains nothing), and the answer says when to retry.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from auth.model import User
from auth.passwords import hash_password, needs_rehash, verify_password
from auth.storage import Accounts, Session, utcnow
from geo.settings import Security

COOKIE = "gridmap_session"
"""Name of the session cookie."""


class SignInError(ValueError):
    """Wrong user name or password, or a disabled user (one message for all: no hints)."""


class Throttled(SignInError):
    """Too many failed sign-ins; `retry_after` says when to try again."""

    def __init__(self, message: str, retry_after: datetime):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str
    """The cookie value (only the browser keeps it)."""
    expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_throttle(
    accounts: Accounts, *, user_name: str, client: str, settings: Security, now: datetime
) -> None:
    """Raise :class:`Throttled` when the user name or the client has too many recent failures."""
    window = timedelta(minutes=settings.failure_window_minutes)
    since = now - window
    per_user = accounts.count_failures(since=since, user_name=user_name)
    per_client = accounts.count_failures(since=since, client=client) if client else 0
    if per_user >= settings.max_failures_per_user or (
        client and per_client >= settings.max_failures_per_client
    ):
        raise Throttled(
            "too many failed sign-ins; try again later",
            retry_after=now + window,
        )


def sign_in(
    accounts: Accounts,
    user_name: str,
    password: str,
    *,
    client: str,
    settings: Security,
    now: datetime | None = None,
) -> SignedIn:
    """Check the password and open a session; raise :class:`SignInError` or :class:`Throttled`."""
    now = now or utcnow()
    user_name = user_name.strip()
    check_throttle(accounts, user_name=user_name, client=client, settings=settings, now=now)
    found = accounts.get_user(user_name) if user_name else None
    ok = verify_password(found[1] if found else None, password)
    if not ok or found is None or found[0].disabled:
        accounts.record_attempt(user_name=user_name, client=client, ok=False, at=now)
        raise SignInError("wrong user name or password")
    user, stored = found
    accounts.record_attempt(user_name=user_name, client=client, ok=True, at=now)
    if needs_rehash(stored):
        accounts.put_user(user, password_hash=hash_password(password))
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=settings.session_hours)
    accounts.create_session(Session(token_hash(token), user.name, now, expires, client))
    return SignedIn(user, token, expires)


def session_user(
    accounts: Accounts, token: str | None, *, now: datetime | None = None
) -> User | None:
    """The enabled user of an unexpired session token, else None."""
    if not token:
        return None
    now = now or utcnow()
    session = accounts.get_session(token_hash(token))
    if session is None or session.expires_at <= now:
        return None
    found = accounts.get_user(session.user_name)
    if found is None or found[0].disabled:
        return None
    return found[0]


def sign_out(accounts: Accounts, token: str | None) -> None:
    """End the session of `token` on the server (every replica)."""
    if token:
        accounts.delete_session(token_hash(token))
