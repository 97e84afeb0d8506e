"""Sign-in for the app: the login page, the session cookie, sign-out and page guards.

The logic (passwords, throttling, sessions) is in :mod:`auth.sessions`; this module is the
Streamlit glue. The browser holds a random token in the ``gridmap_session`` cookie, read on
each new connection through ``st.context.cookies`` and checked against the store's session
rows on every run, so any replica accepts it and a sign-out or an expired or disabled account
takes effect at once. The cookie is written and cleared from the browser by a tiny script in a
one-pixel ``st.iframe`` (Streamlit offers no server-side ``Set-Cookie``).

Optional single sign-on: when ``[auth]`` is configured in ``.streamlit/secrets.toml``, the
login page also offers ``st.login()``; a user signed in that way must exist in the store's
``users`` table under their e-mail address (their role and scope come from there).
"""

from __future__ import annotations

import json
import os
from datetime import datetime

import streamlit as st

from auth.demo import demo_passwords, ensure_demo_accounts
from auth.model import ROLES, SCOPE_LEVELS, User, can
from auth.sessions import COOKIE, SignInError, Throttled, session_user, sign_in, sign_out
from ui import data_access as da
from ui.i18n import lang, tr
from ui.text import safe

USER_KEY = da.USER_KEY
TOKEN_KEY = "auth_token"
COOKIE_OP_KEY = "auth_cookie_op"  # pending cookie write: ("set", token, max_age) or ("clear",)
SIGNED_OUT_KEY = "auth_signed_out"  # ignore the connection's cookie after a sign-out
LOGIN_USER, LOGIN_PASSWORD, LOGIN_SUBMIT = "login_user", "login_password", "login_submit"
TRUST_PROXY_ENV = "GRIDMAP_TRUST_PROXY"


def client_address() -> str:
    """The client's address for throttling.

    Behind a reverse proxy every request comes from the proxy: with ``GRIDMAP_TRUST_PROXY=1``
    (set it only when a proxy in front overwrites the header) ``X-Real-IP`` is used instead.
    """
    if os.environ.get(TRUST_PROXY_ENV) == "1":
        forwarded = st.context.headers.get("X-Real-IP")
        if forwarded:
            return forwarded.strip()
    address = st.context.ip_address
    return address if isinstance(address, str) else ""


@st.cache_resource(show_spinner=False, max_entries=4)
def _demo_accounts_ready(path: str) -> bool:
    from data.store import open_store

    ensure_demo_accounts(open_store(path))
    return True


def current_user() -> User | None:
    """Validate this session's token (or the browser's cookie) and remember the user."""
    store = da.current_store()
    if not store.exists():
        st.session_state[USER_KEY] = None
        return None
    _demo_accounts_ready(str(store.path))
    token = st.session_state.get(TOKEN_KEY)
    if token is None and not st.session_state.get(SIGNED_OUT_KEY):
        token = st.context.cookies.get(COOKIE)
    if not isinstance(token, str):
        token = None  # no cookie (AppTest's context holds no real cookies)
    user = session_user(store.accounts(), token)
    if user is None:
        st.session_state.pop(TOKEN_KEY, None)
        user = sso_user()
    else:
        st.session_state[TOKEN_KEY] = token
    st.session_state[USER_KEY] = user
    return user


def signed_in_user() -> User | None:
    """The user :func:`current_user` found in this run (pages call this, not the store)."""
    return st.session_state.get(USER_KEY)


def require(action: str) -> User:
    """Stop the page unless the signed-in user may do `action` (server-side page guard)."""
    user = signed_in_user()
    if not can(user, action):
        st.error(tr("您没有权限打开此页面。", "You are not allowed to open this page."))
        st.stop()
    return user


def cookie_script() -> None:
    """Write or clear the session cookie in the browser when a sign-in or sign-out asked for it.

    The script stays on the page for the rest of the session (same element, same place, so it is
    not mounted again): a rerun that follows the sign-in at once (a map reporting its view, a
    widget) would otherwise remove it before the browser ran it, and the cookie would never be
    written.
    """
    op = st.session_state.get(COOKIE_OP_KEY)
    if op is None:
        return
    if op[0] == "set":
        value, max_age = json.dumps(op[1]), int(op[2])
    else:
        value, max_age = '""', 0
    st.iframe(
        "<script>"
        "const secure = window.parent.location.protocol === 'https:' ? '; Secure' : '';"
        f"window.parent.document.cookie = '{COOKIE}=' + {value} + "
        f"'; Path=/; Max-Age={max_age}; SameSite=Strict' + secure;"
        "</script>",
        height=1,
    )


def _remember(signed) -> None:
    st.session_state[TOKEN_KEY] = signed.token
    st.session_state[USER_KEY] = signed.user
    st.session_state.pop(SIGNED_OUT_KEY, None)
    max_age = (signed.expires_at - datetime.now(signed.expires_at.tzinfo)).total_seconds()
    st.session_state[COOKIE_OP_KEY] = ("set", signed.token, max_age)


def sign_out_button() -> None:
    """The signed-in user's name and role, and a sign-out button, in the sidebar."""
    user = signed_in_user()
    if user is None:
        return
    role = ROLES[user.role][0 if lang() == "zh" else 1]
    where = (
        tr("全市", "whole city")
        if user.scope.is_city
        else f"{SCOPE_LEVELS[user.scope.level][0 if lang() == 'zh' else 1]} "
        + "、".join(user.scope.values)
    )
    st.sidebar.caption(f"{safe(user.display_name)} · {role} · {safe(where)}")
    if st.sidebar.button(tr("退出登录", "Sign out"), icon=":material/logout:", key="auth_sign_out"):
        sign_out(da.current_store().accounts(), st.session_state.get(TOKEN_KEY))
        for key in (TOKEN_KEY, USER_KEY):
            st.session_state.pop(key, None)
        st.session_state[SIGNED_OUT_KEY] = True
        st.session_state[COOKIE_OP_KEY] = ("clear",)
        st.rerun()


def login_page() -> None:
    """The only page shown while signed out: user name and password (and SSO if configured)."""
    st.title(tr("登录", "Sign in"))
    store = da.current_store()
    if not store.exists():
        st.error(
            tr(
                "数据存储不存在，无法登录。请检查 GRIDMAP_STORE。",
                "The store does not exist, so nobody can sign in. Check GRIDMAP_STORE.",
            )
        )
        return
    with st.form("login_form"):
        name = st.text_input(tr("用户名", "User name"), key=LOGIN_USER, autocomplete="username")
        password = st.text_input(
            tr("密码", "Password"),
            type="password",
            key=LOGIN_PASSWORD,
            autocomplete="current-password",
        )
        submitted = st.form_submit_button(tr("登录", "Sign in"), key=LOGIN_SUBMIT, type="primary")
    if submitted:
        try:
            signed = sign_in(
                store.accounts(),
                name,
                password,
                client=client_address(),
                settings=da.profile().security,
            )
        except Throttled as exc:
            minutes = max(
                1,
                round(
                    (exc.retry_after - datetime.now(exc.retry_after.tzinfo)).total_seconds() / 60
                ),
            )
            st.error(
                tr(
                    f"登录失败次数过多，请 {minutes} 分钟后再试。",
                    f"Too many failed sign-ins. Try again in {minutes} minutes.",
                )
            )
        except SignInError:
            st.error(tr("用户名或密码错误。", "Wrong user name or password."))
        else:
            _remember(signed)
            st.rerun()
    _single_sign_on()
    _demo_accounts(store)


def _single_sign_on() -> None:
    """Offer ``st.login()`` when an identity provider is configured in the secrets."""
    try:
        configured = "auth" in st.secrets
    except FileNotFoundError:
        configured = False
    if configured and st.button(tr("使用单位账号登录", "Sign in with your organisation")):
        st.login()


def sso_user() -> User | None:
    """The store's user for an identity-provider sign-in (matched by e-mail), if any."""
    try:
        if not st.user.is_logged_in:
            return None
    except (AttributeError, KeyError, st.errors.StreamlitAPIException):
        return None
    email = str(st.user.get("email") or "")
    found = da.current_store().accounts().get_user(email) if email else None
    return None if found is None or found[0].disabled else found[0]


def _demo_accounts(store) -> None:
    """List the demo accounts and their passwords, only when the store is flagged as the demo."""
    passwords = demo_passwords(store.meta())
    if not passwords:
        return
    st.info(
        tr(
            "这是演示数据（合成，非真实数据）。可用以下演示账号体验每种角色：",
            "This is the demo store (synthetic, not real data). Try each role with these demo accounts:",
        )
    )
    users = {u.name: u for u in store.accounts().list_users()}
    rows = []
    for name, password in passwords.items():
        user = users.get(name)
        role = ROLES[user.role][0 if lang() == "zh" else 1] if user else ""
        rows.append(
            {tr("用户名", "User"): name, tr("角色", "Role"): role, tr("密码", "Password"): password}
        )
    st.dataframe(rows, hide_index=True)
