"""Roles, scopes, password hashing, sessions, throttling and the accounts tables of the store."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from auth.gpkg import GeoPackageAccounts
from auth.model import (
    PERMISSIONS,
    AuthError,
    PermissionDenied,
    Scope,
    User,
    can,
    filter_to_scope,
    grid_in_scope,
    grid_tags,
    mask_personal,
    require,
)
from auth.passwords import WeakPassword, check_strength, hash_password, verify_password
from auth.sessions import SignInError, Throttled, session_user, sign_in, sign_out, token_hash
from auth.storage import AuditEntry, utcnow
from data.store import GeoPackageStore, StoreError
from geo.settings import Security


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    """Four 1 x 1 grids in a row: two communities of one street, one of another district."""
    return gpd.GeoDataFrame(
        {
            "grid_code": ["G1", "G2", "G3", "G4"],
            "community": ["C1", "C1", "C2", "C3"],
            "street": ["S1", "S1", "S1", "S2"],
            "district": ["D1", "D1", "D1", "D2"],
            "worker_name": ["王一", "王二", "王三", None],
            "worker_phone": ["13800000001", None, "13800000003", None],
        },
        geometry=[box(i, 0, i + 1, 1) for i in range(4)],
        crs="EPSG:4326",
    )


@pytest.fixture
def points() -> gpd.GeoDataFrame:
    """One point in each grid and one outside every grid."""
    xs = [0.5, 1.5, 2.5, 3.5, 9.0]
    return gpd.GeoDataFrame(
        {"residents": [10, 20, 30, 40, 50]},
        geometry=[Point(x, 0.5) for x in xs],
        crs="EPSG:4326",
    )


@pytest.fixture
def accounts(tmp_path, grids) -> GeoPackageAccounts:
    path = tmp_path / "store.gpkg"
    GeoPackageStore(path).write({"grids": grids})
    return GeoPackageStore(path).accounts()


def user(role: str, scope: str = "city", **kw) -> User:
    return User(f"u_{role}", f"User {role}", role, Scope.parse(scope), **kw)


# ----------------------------------------------------------------- permissions
@pytest.mark.parametrize(
    "role, allowed",
    [
        ("admin", {"import", "audit", "manage_users", "edit_grid_facts"}),
        ("planner", {"import", "audit", "edit_grid_facts", "snapshot"}),
        ("staff", {"edit_grid_facts", "edit_grid_people", "see_personal"}),
        ("worker", {"edit_grid_people", "see_personal", "view"}),
        ("viewer", {"view", "export"}),
    ],
)
def test_permission_table_by_role(role, allowed):
    u = user(role)
    for action in allowed:
        assert can(u, action), (role, action)
    denied = {
        "admin": set(),
        "planner": {"manage_users"},
        "staff": {"import", "audit", "manage_users", "snapshot"},
        "worker": {"import", "audit", "edit_grid_facts", "manage_users"},
        "viewer": {"import", "see_personal", "edit_grid_people", "edit_grid_facts", "audit"},
    }[role]
    for action in denied:
        assert not can(u, action), (role, action)


def test_disabled_user_and_nobody_may_do_nothing():
    for action in PERMISSIONS:
        assert not can(user("admin", disabled=True), action)
        assert not can(None, action)
    with pytest.raises(PermissionDenied, match="nobody signed in"):
        require(None, "view")
    with pytest.raises(KeyError):
        can(user("admin"), "fly")


def test_scope_parse_round_trip_and_errors():
    assert str(Scope.parse("grids: G1, G2")) == "grids:G1,G2"
    assert Scope.parse("").is_city and Scope.parse("city").is_city
    with pytest.raises(AuthError, match="needs at least one value"):
        Scope.parse("district")
    with pytest.raises(AuthError, match="not one of"):
        Scope.parse("country:CN")
    with pytest.raises(AuthError, match="role"):
        User("abc", "A", "superuser")
    with pytest.raises(AuthError, match="user name"):
        User("a b", "A", "viewer")


# ----------------------------------------------------------------- scope filtering
@pytest.mark.parametrize(
    "scope, codes",
    [
        ("city", ["G1", "G2", "G3", "G4"]),
        ("district:D2", ["G4"]),
        ("street:S1", ["G1", "G2", "G3"]),
        ("community:C1,C3", ["G1", "G2", "G4"]),
        ("grids:G3", ["G3"]),
        ("grids:NOPE", []),
    ],
)
def test_filter_grids_and_points_to_scope(grids, points, scope, codes):
    s = Scope.parse(scope)
    assert filter_to_scope(grids, "grids", s)["grid_code"].tolist() == codes
    kept = filter_to_scope(points, "population", s, grids=grids)
    # the point outside every grid is only seen with the city scope
    expected = [10 * (int(c[1])) for c in codes] + ([50] if s.is_city else [])
    assert kept["residents"].tolist() == expected


def test_public_layers_are_not_filtered(points):
    assert len(filter_to_scope(points, "shelters", Scope.parse("grids:G1"))) == len(points)


def test_filtering_a_point_layer_needs_grids_or_tags(points):
    with pytest.raises(ValueError, match="needs the grids"):
        filter_to_scope(points, "population", Scope.parse("grids:G1"))


def test_grid_tags(grids, points):
    tags = grid_tags(points, grids)
    assert tags["grid_code"].tolist() == ["G1", "G2", "G3", "G4", None]
    assert tags["district"].tolist()[3] == "D2"


def test_grid_in_scope(grids):
    assert grid_in_scope("G1", Scope.parse("street:S1"), grids)
    assert not grid_in_scope("G4", Scope.parse("street:S1"), grids)
    assert not grid_in_scope("G9", Scope(), grids)


def test_viewer_sees_no_personal_data(grids):
    masked = mask_personal(grids, "grids", user("viewer"))
    assert masked["worker_name"].isna().all() and masked["worker_phone"].isna().all()
    assert grids["worker_name"].notna().sum() == 3  # the input is not changed
    shown = mask_personal(grids, "grids", user("worker", "grids:G1"))
    assert shown["worker_phone"].tolist()[0] == "13800000001"


# ----------------------------------------------------------------- passwords
def test_hash_and_verify():
    h = hash_password("correct horse battery")
    assert h.startswith("$argon2id$") and "correct" not in h
    assert verify_password(h, "correct horse battery")
    assert not verify_password(h, "wrong")
    assert not verify_password(None, "anything")
    assert not verify_password("not-a-hash", "anything")
    assert hash_password("same password") != hash_password("same password")  # salted


def test_password_strength():
    with pytest.raises(WeakPassword, match="at least 10"):
        check_strength("short")
    with pytest.raises(WeakPassword, match="user name"):
        check_strength("planner_one", user_name="PLANNER_ONE")
    check_strength("a long enough phrase")


# ----------------------------------------------------------------- store tables
def test_users_round_trip(accounts):
    u = user("worker", "grids:G1,G2")
    accounts.put_user(u, password_hash=hash_password("worker password"))
    got, stored = accounts.get_user("u_worker")
    assert got == u and verify_password(stored, "worker password")
    accounts.put_user(User("u_worker", "王", "staff", Scope.parse("street:S1")))
    got, stored2 = accounts.get_user("u_worker")
    assert got.role == "staff" and stored2 == stored  # hash kept
    with pytest.raises(ValueError, match="needs a password"):
        accounts.put_user(user("viewer"))
    assert [u.name for u in accounts.list_users()] == ["u_worker"]
    assert accounts.get_user("nobody") is None


def test_account_tables_are_not_layers_and_do_not_change_the_data_version(accounts, grids):
    store = GeoPackageStore(accounts.path)
    version = store.version()
    accounts.put_user(user("viewer"), password_hash=hash_password("viewer password"))
    accounts.append_audit([AuditEntry("x", "viewer", "edit")])
    assert store.version() == version
    assert not {"users", "auth_sessions", "audit_log"} & set(store.layers())
    with pytest.raises(StoreError, match="not a data table"):
        store.read_table("users")
    store.write({"grids": grids})
    assert store.version() != version
    # a layer write keeps the account rows
    assert accounts.get_user("u_viewer") is not None


def test_audit_is_append_only(accounts):
    accounts.append_audit(
        [
            AuditEntry(
                "a", "planner", "import", layer="grids", rows_added=4, detail={"sha256": "ab"}
            ),
            AuditEntry("b", "worker", "edit", layer="grids", rows_changed=1),
        ]
    )
    table = accounts.read_audit()
    assert table["user_name"].tolist() == ["b", "a"]  # newest first
    assert table["detail"].tolist()[1] == {"sha256": "ab"}
    assert accounts.read_audit(action="import")["rows_added"].tolist() == [4]
    assert accounts.read_audit(user_name="b")["action"].tolist() == ["edit"]
    assert len(accounts.read_audit(since=utcnow() + timedelta(minutes=1))) == 0
    con = sqlite3.connect(accounts.path)
    for sql in ("UPDATE audit_log SET user_name = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute(sql)
    con.close()


def test_write_with_audit_is_one_step(tmp_path, grids):
    store = GeoPackageStore(tmp_path / "s.gpkg")
    store.write({"grids": grids}, audit=[AuditEntry("p", "planner", "import", layer="grids")])
    assert store.accounts().read_audit()["layer"].tolist() == ["grids"]
    no_crs = gpd.GeoDataFrame({"x": [1]}, geometry=[Point(0, 0)])
    with pytest.raises(StoreError, match="no CRS"):
        store.write(
            {"grids": no_crs},
            audit=[AuditEntry("p", "planner", "import")],
        )
    assert len(store.accounts().read_audit()) == 1


# ----------------------------------------------------------------- sign-in
SETTINGS = Security(
    session_hours=1, failure_window_minutes=10, max_failures_per_user=3, max_failures_per_client=5
)


@pytest.fixture
def planner(accounts) -> User:
    u = user("planner")
    accounts.put_user(u, password_hash=hash_password("planner password"))
    return u


def test_sign_in_session_and_sign_out(accounts, planner):
    now = utcnow()
    signed = sign_in(
        accounts, " u_planner ", "planner password", client="1.2.3.4", settings=SETTINGS, now=now
    )
    assert signed.user == planner
    assert accounts.get_session(signed.token) is None  # only the hash is stored
    assert accounts.get_session(token_hash(signed.token)).user_name == "u_planner"
    assert session_user(accounts, signed.token, now=now) == planner
    assert session_user(accounts, signed.token, now=now + timedelta(hours=2)) is None  # expired
    assert session_user(accounts, "forged", now=now) is None
    sign_out(accounts, signed.token)
    assert session_user(accounts, signed.token, now=now) is None


def test_disabled_user_cannot_sign_in_and_loses_sessions(accounts, planner):
    signed = sign_in(accounts, "u_planner", "planner password", client="c", settings=SETTINGS)
    accounts.put_user(User(planner.name, planner.display_name, "planner", disabled=True))
    assert session_user(accounts, signed.token) is None
    with pytest.raises(SignInError, match="wrong user name or password"):
        sign_in(accounts, "u_planner", "planner password", client="c", settings=SETTINGS)


def test_throttling_per_user_and_per_client(accounts, planner):
    now = utcnow()
    for _ in range(3):
        with pytest.raises(SignInError) as info:
            sign_in(accounts, "u_planner", "wrong", client="c1", settings=SETTINGS, now=now)
        assert not isinstance(info.value, Throttled)
    # the right password is refused too while the name is throttled
    with pytest.raises(Throttled) as info:
        sign_in(accounts, "u_planner", "planner password", client="c2", settings=SETTINGS, now=now)
    assert info.value.retry_after == now + timedelta(minutes=10)
    # once the failures leave the window it works again
    later = now + timedelta(minutes=11)
    assert sign_in(
        accounts, "u_planner", "planner password", client="c2", settings=SETTINGS, now=later
    )
    # a client guessing many names is throttled after max_failures_per_client
    for n in range(5):
        with pytest.raises(SignInError):
            sign_in(accounts, f"guess{n}", "x", client="bad", settings=SETTINGS, now=later)
    with pytest.raises(Throttled):
        sign_in(
            accounts, "u_planner", "planner password", client="bad", settings=SETTINGS, now=later
        )


def test_cookie_secret_from_env_or_a_private_file(tmp_path, monkeypatch):
    from ui.serve import COOKIE_SECRET_ENV, ensure_cookie_secret

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv(COOKIE_SECRET_ENV, raising=False)
    ensure_cookie_secret()
    path = tmp_path / "gridmap" / "cookie_secret"
    secret = path.read_text()
    assert len(secret) >= 48 and (path.stat().st_mode & 0o777) == 0o600
    import os

    assert os.environ[COOKIE_SECRET_ENV] == secret
    monkeypatch.delenv(COOKIE_SECRET_ENV)
    ensure_cookie_secret()  # the same file, the same secret
    assert os.environ[COOKIE_SECRET_ENV] == secret
    monkeypatch.setenv(COOKIE_SECRET_ENV, "from-env")
    ensure_cookie_secret()
    assert os.environ[COOKIE_SECRET_ENV] == "from-env"
