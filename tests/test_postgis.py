"""The store contract on both backends, the PostGIS copy and row-level security.

PostGIS runs in a throwaway cluster (``pg_cluster`` in conftest.py). When PostgreSQL or
PostGIS is missing the cluster fixture fails: ``bash scripts/setup.sh --test`` installs them.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
import shapely
from shapely.geometry import box

import cli
from data import postgis
from data.postgis import DbIdentity, PostGISStore, mask_url
from data.store import GeoPackageStore, StoreError, open_store
from layers import LAYERS
from tests._importing_fixtures import grids_frame, small_layers


@pytest.fixture(params=["gpkg", "postgis"])
def store(request, tmp_path):
    """A store holding :func:`small_layers` and two metadata keys, on each backend."""
    if request.param == "gpkg":
        out = GeoPackageStore(tmp_path / "store.gpkg")
    else:
        out = open_store(request.getfixturevalue("pg_url"))
        assert isinstance(out, PostGISStore)
    out.write(small_layers())
    out.write_meta({"synthetic": "false", "city": "十堰市"})
    return out


# ============================================================================ contract


def test_round_trip_every_layer(store):
    layers = small_layers()
    assert set(LAYERS) <= set(store.layers())
    for name, frame in layers.items():
        back = store.read(name)
        assert back.crs.to_epsg() == 4326
        assert len(back) == len(frame)
        assert list(back.columns) == list(frame.columns), name
        assert shapely.equals_exact(back.geometry.values, frame.geometry.values, 0).all(), name
    villages = store.read("villages")
    assert villages["households"].dtype == "Int64"
    assert villages["garbage_collection"].tolist() == [True, False]
    assert villages["sewage_treatment"].dtype == "boolean"
    assert villages["sewage_treatment"].isna().tolist() == [False, True]
    assert store.read("districts")["parent_code"].iloc[0] is None


def test_same_frames_from_both_backends(store, tmp_path):
    reference = GeoPackageStore(tmp_path / "reference.gpkg")
    reference.write(small_layers())
    for name in LAYERS:
        ours, theirs = store.read(name), reference.read(name)
        pd.testing.assert_frame_equal(
            pd.DataFrame(ours.drop(columns="geometry")),
            pd.DataFrame(theirs.drop(columns="geometry")),
        )


def test_missing_and_unknown_layers(store):
    store.write({"shelters": small_layers()["shelters"].iloc[:0]})
    shelters = store.read("shelters")
    assert shelters.empty and "shelter_class" in shelters.columns
    with pytest.raises(StoreError, match="no layer 'nope'"):
        store.read("nope")
    assert store.read_table("snapshots").empty


def test_append_and_replace(store):
    store.write({"grids": grids_frame(2, start=10)}, mode="append")
    codes = store.read("grids")["grid_code"].tolist()
    assert codes == ["G001", "G002", "G003", "G004", "G010", "G011"]
    store.write({"grids": grids_frame(1, start=20)})
    assert store.read("grids")["grid_code"].tolist() == ["G020"]
    with pytest.raises(ValueError, match="mode must be"):
        store.write({"grids": grids_frame(1)}, mode="merge")


def test_failed_write_leaves_store_unchanged(store, monkeypatch):
    before, version = store.checksum(), store.version()
    bad = grids_frame(1).set_crs(None, allow_override=True)
    with pytest.raises(StoreError, match="layer 'grids' has no CRS"):
        store.write({"population": small_layers()["population"].iloc[:1], "grids": bad})
    assert store.checksum() == before and store.version() == version
    if isinstance(store, PostGISStore):
        # a failure in the middle of the transaction (after population was loaded)
        calls = []
        real = postgis._copy_in

        def fail_second(cur, layer, frame):
            calls.append(layer)
            if len(calls) == 2:
                raise RuntimeError("disk full")
            real(cur, layer, frame)

        monkeypatch.setattr(postgis, "_copy_in", fail_second)
        with pytest.raises(RuntimeError, match="disk full"):
            store.write({"population": small_layers()["population"], "grids": grids_frame(3)})
        assert calls == ["population", "grids"]
        assert store.checksum() == before and store.version() == version
    assert len(store.read("population")) == 4


def test_points_and_polygons_in_one_layer(store):
    shelters = small_layers()["shelters"]
    shelters.loc[1, "geometry"] = box(110.8, 32.62, 110.81, 32.63)
    store.write({"shelters": shelters.to_crs("EPSG:4546")})
    back = store.read("shelters")
    assert back.geom_type.tolist() == ["Point", "Polygon"]
    assert back.geometry.iloc[1].bounds == pytest.approx((110.8, 32.62, 110.81, 32.63), abs=1e-7)


def test_meta_merges_and_version_changes(store):
    version = store.version()
    store.write_meta({"period": "2026-Q3"})
    assert store.meta() == {"synthetic": "false", "city": "十堰市", "period": "2026-Q3"}
    assert store.version() != version


def test_attribute_tables_replace_and_append(store):
    table = pd.DataFrame({"period": ["2026-Q3"], "value": [0.9]})
    store.write({"snapshots": table})
    assert store.read_table("snapshots").to_dict("list") == {"period": ["2026-Q3"], "value": [0.9]}
    store.write({"snapshots": table.assign(value=[0.5])}, mode="append")
    assert store.read_table("snapshots")["value"].tolist() == [0.9, 0.5]


def test_read_layers_every_layer_and_a_selection(store):
    store.write({"grids": grids_frame(2)})
    every = store.read_layers()
    assert list(every) == list(LAYERS)
    assert every["grids"]["grid_code"].tolist() == ["G001", "G002"]
    some = store.read_layers(["shelters", "grids"])
    assert list(some) == ["shelters", "grids"]
    with pytest.raises(StoreError, match="no layer 'nope'"):
        store.read_layers(["grids", "nope"])


def test_counts(store):
    counts = store.counts()
    assert counts["grids"] == 4 and counts["population"] == 4
    assert counts["gridmap_meta"] == 2


# ============================================================================ URLs


def test_open_store_picks_the_backend_from_the_value(tmp_path, monkeypatch):
    assert isinstance(open_store(tmp_path / "x.gpkg"), GeoPackageStore)
    url = "postgresql://app:s3cret@db.example/city"
    assert isinstance(open_store(url), PostGISStore)
    monkeypatch.setenv("GRIDMAP_STORE", url)
    store = open_store()
    assert isinstance(store, PostGISStore)
    assert "s3cret" not in store.label and "s3cret" not in repr(store)
    assert "s3cret" not in str(store.path) and store.label == "postgresql://app:***@db.example/city"
    # the masked name used as a cache key opens the same store again in this process
    assert open_store(str(store.path))._url == url


@pytest.mark.parametrize(
    "url, shown",
    [
        (
            "postgresql://app:pw@h:5433/c?sslmode=require",
            "postgresql://app:***@h:5433/c?sslmode=require",
        ),
        ("postgresql://app@h/c", "postgresql://app@h/c"),
        ("postgres://u:p%40ss@h/c", "postgres://u:***@h/c"),
    ],
)
def test_mask_url(url, shown):
    assert mask_url(url) == shown


def test_identity_validates_role_and_scope():
    with pytest.raises(ValueError, match="role 'root'"):
        DbIdentity(role="root")
    with pytest.raises(ValueError, match="scope 'planet'"):
        DbIdentity(role="viewer", scope_level="planet")
    a = DbIdentity("worker", "grids", ("G001",))
    b = DbIdentity("worker", "grids", ("G002",))
    assert a.key() != b.key() and a.key() == DbIdentity("worker", "grids", ("G001",)).key()


# ============================================================================ demo copy


@pytest.fixture(scope="module")
def demo_pg(pg_cluster, pg_template, demo_store_path, tmp_path_factory) -> str:
    """The demo store copied to PostGIS with ``db copy`` (URL with a password, ignored by trust)."""
    name = pg_cluster.new_database(template=pg_template)
    url = pg_cluster.url("gridmap_app:s3cret", name)
    assert cli.main(["db", "copy", "--from", str(demo_store_path), "--to", url]) == 0
    return url


def _gaps_json(capsys, data: str) -> dict:
    capsys.readouterr()
    assert cli.main(["gaps", "--data", data, "--json"]) == 0
    out = capsys.readouterr().out
    summary = json.loads(out)
    return out, summary


def test_gaps_on_postgis_equal_the_geopackage(demo_pg, demo_store_path, capsys):
    out, from_pg = _gaps_json(capsys, demo_pg)
    assert "s3cret" not in out and from_pg["store"].startswith("postgresql://gridmap_app:***@")
    _, from_gpkg = _gaps_json(capsys, str(demo_store_path))
    for key in ("store", "timings_s"):  # where it came from and how long it took
        del from_pg[key], from_gpkg[key]
    assert from_pg == from_gpkg


def test_copy_back_to_a_geopackage(demo_pg, demo_store_path, tmp_path, capsys):
    out = tmp_path / "back.gpkg"
    capsys.readouterr()
    assert cli.main(["db", "copy", "--from", demo_pg, "--to", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "s3cret" not in printed and json.loads(printed)["tables"]["population"] > 0
    back, original = GeoPackageStore(out), GeoPackageStore(demo_store_path)
    assert "synthetic" not in back.meta()  # the demo flag stays with the demo
    assert original.meta().get("synthetic") == "true"
    for name in ("grids", "population", "shelters"):
        a, b = back.read(name), original.read(name)
        pd.testing.assert_frame_equal(
            pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry"))
        )
        assert a.geometry.geom_equals_exact(b.geometry, 0).all()
    assert back.read_table("indicator_snapshots").equals(original.read_table("indicator_snapshots"))


def test_population_rows_are_tagged_with_their_grid(demo_pg):
    store = open_store(demo_pg)
    with store.transaction() as cur:
        cur.execute("SELECT count(*), count(grid_code) FROM gridmap.population")
        total, tagged = cur.fetchone()
    assert total > 60_000 and tagged == total  # demo points all lie in a grid


# ============================================================================ security


@pytest.fixture
def secured(pg_url) -> str:
    """Four grids in two streets (G001, G002 in 街道甲; G003, G004 in 街道乙) and population."""
    grids = grids_frame(4)
    grids["street"] = ["街道甲", "街道甲", "街道乙", "街道乙"]
    population = gpd.GeoDataFrame(
        {"residents": [10, 20, 30, 40], "households": [1, 2, 3, 4]},
        geometry=[g.centroid for g in grids.geometry],
        crs=grids.crs,
    )
    PostGISStore(pg_url, identity=DbIdentity("planner")).write(
        {"grids": grids, "population": population}
    )
    return pg_url


def _as(url: str, role: str, level: str = "city", values: tuple[str, ...] = ()) -> PostGISStore:
    return PostGISStore(url, identity=DbIdentity(role, level, values))


def _sql(store: PostGISStore, query: str, params=()):
    with store.transaction() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else cur.rowcount


def test_worker_sees_and_changes_only_their_grids(secured):
    worker = _as(secured, "worker", "grids", ("G002",))
    assert _sql(worker, "SELECT grid_code FROM gridmap.grids") == [("G002",)]
    assert _sql(worker, "SELECT residents FROM gridmap.population") == [(20,)]
    assert worker.read("grids")["grid_code"].tolist() == ["G002"]
    assert _sql(worker, "UPDATE gridmap.grids SET households = 99 WHERE grid_code = 'G001'") == 0
    assert _sql(worker, "UPDATE gridmap.grids SET households = 99") == 1
    with pytest.raises(StoreError, match="not allowed"):
        _sql(worker, "UPDATE gridmap.grids SET grid_code = 'G001'")
    with pytest.raises(StoreError, match="not allowed"):
        _sql(worker, "DELETE FROM gridmap.population")
    with pytest.raises(StoreError, match="not allowed"):
        worker.write({"grids": grids_frame(1)})
    planner = _as(secured, "planner")
    households = dict(_sql(planner, "SELECT grid_code, households FROM gridmap.grids"))
    assert households["G002"] == 99 and households["G001"] != 99


def test_staff_scope_is_their_street(secured):
    staff = _as(secured, "staff", "street", ("街道乙",))
    assert sorted(_sql(staff, "SELECT grid_code FROM gridmap.grids")) == [("G003",), ("G004",)]
    assert sorted(_sql(staff, "SELECT residents FROM gridmap.population")) == [(30,), (40,)]
    assert (
        staff.update_rows(
            "grids", "grid_code", pd.DataFrame({"grid_code": ["G001", "G003"], "residents": [5, 6]})
        )
        == 1
    )


def test_viewer_cannot_write(secured):
    viewer = _as(secured, "viewer")
    assert len(_sql(viewer, "SELECT grid_code FROM gridmap.grids")) == 4
    for query in (
        "UPDATE gridmap.grids SET households = 1",
        "DELETE FROM gridmap.shelters",
        "INSERT INTO gridmap.meta VALUES ('x', 'y')",
    ):
        with pytest.raises(StoreError, match="not allowed"):
            _sql(viewer, query)
    with pytest.raises(StoreError, match="not allowed"):
        viewer.write_meta({"period": "2026-Q3"})


def test_planner_can_write(secured):
    planner = _as(secured, "planner")
    assert _sql(planner, "UPDATE gridmap.grids SET households = 7") == 4
    planner.write({"grids": grids_frame(2)})
    assert len(planner.read("grids")) == 2


def test_audit_rows_can_be_added_and_read_never_changed(secured):
    insert = "INSERT INTO gridmap.audit_log (user_name, role, action) VALUES (%s, %s, 'edit')"
    for role in ("planner", "admin", "worker"):
        store = _as(secured, role, "grids", ("G001",)) if role == "worker" else _as(secured, role)
        _sql(store, insert, (role, role))
        for query in ("UPDATE gridmap.audit_log SET action = 'x'", "DELETE FROM gridmap.audit_log"):
            with pytest.raises(StoreError, match="not allowed"):
                _sql(store, query)
    accounts = _as(secured, "viewer").accounts()
    assert accounts.read_audit()["user_name"].tolist() == ["worker", "admin", "planner"]
    with pytest.raises(StoreError, match="not allowed"):  # a worker cannot read the trail
        _sql(_as(secured, "worker", "grids", ("G001",)), "SELECT * FROM gridmap.audit_log")
    with (
        pytest.raises(StoreError, match="not allowed"),
        accounts.store.transaction(group_role="gridmap_accounts") as cur,
    ):
        cur.execute("DELETE FROM gridmap.audit_log")


def test_user_roles_cannot_read_accounts(secured):
    for role in ("admin", "planner", "viewer"):
        with pytest.raises(StoreError, match="not allowed"):
            _sql(_as(secured, role), "SELECT password_hash FROM gridmap.users")
    with pytest.raises(StoreError, match="not a data table"):
        _as(secured, "admin").read_table("users")


def test_accounts_protocol_on_postgis(secured):
    from datetime import timedelta

    from auth.model import Scope, User
    from auth.passwords import hash_password, verify_password
    from auth.sessions import SignInError, Throttled, session_user, sign_in, sign_out
    from auth.storage import AuditEntry, Session, utcnow
    from geo.settings import Security

    settings = Security(
        session_hours=1,
        failure_window_minutes=10,
        max_failures_per_user=3,
        max_failures_per_client=5,
    )
    store = _as(secured, "viewer")
    accounts = store.accounts()
    worker = User("wang", "王芳", "worker", Scope.parse("grids:G001,G002"))
    accounts.put_user(worker, password_hash=hash_password("worker password"))
    got, stored = accounts.get_user("wang")
    assert got == worker and verify_password(stored, "worker password")
    with pytest.raises(ValueError, match="needs a password"):
        accounts.put_user(User("li", "李", "viewer"))
    version = store.version()
    signed = sign_in(accounts, "wang", "worker password", client="c", settings=settings)
    # another replica (its own connection) finds the same session
    other = PostGISStore(secured + "&application_name=replica2", identity=DbIdentity("viewer"))
    assert session_user(other.accounts(), signed.token) == worker
    assert store.version() == version  # sign-ins do not change the data version
    sign_out(accounts, signed.token)
    assert session_user(other.accounts(), signed.token) is None
    for _ in range(3):
        with pytest.raises(SignInError):
            sign_in(accounts, "wang", "wrong", client="c", settings=settings)
    with pytest.raises(Throttled):
        sign_in(accounts, "wang", "worker password", client="c2", settings=settings)
    accounts.append_audit([AuditEntry("wang", "worker", "edit", detail={"grid": "G001"})])
    table = accounts.read_audit(action="edit")
    assert table["detail"].tolist() == [{"grid": "G001"}]
    assert str(table["at"].dt.tz) == "UTC"
    accounts.create_session(
        Session("h", "wang", utcnow() - timedelta(hours=2), utcnow() - timedelta(hours=1))
    )
    assert accounts.delete_expired_sessions(utcnow()) == 1


def test_write_with_audit_is_one_transaction(secured, monkeypatch):
    from auth.storage import AuditEntry

    planner = _as(secured, "planner")
    entry = AuditEntry("p", "planner", "import", layer="grids", rows_added=2)
    planner.write({"grids": grids_frame(2)}, audit=[entry])
    assert planner.accounts().read_audit()["layer"].tolist() == ["grids"]
    with pytest.raises(StoreError, match="no CRS"):
        planner.write({"grids": grids_frame(1).set_crs(None, allow_override=True)}, audit=[entry])
    worker = _as(secured, "worker", "grids", ("G001",))
    with pytest.raises(StoreError, match="not allowed"):
        worker.write({"grids": grids_frame(1)}, audit=[entry])
    assert len(planner.accounts().read_audit()) == 1


def test_app_login_role_alone_reads_nothing(secured):
    with psycopg.connect(secured, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM gridmap.grids")
        row = conn.execute(
            "SELECT rolsuper, rolbypassrls, rolinherit FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert row == (False, False, False)
        owned = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE r.rolname = current_user"
        ).fetchone()[0]
        assert owned == 0


def test_data_version_and_cache_key(secured):
    planner, worker = _as(secured, "planner"), _as(secured, "worker", "grids", ("G001",))
    before = planner.data_version()
    assert planner.version() != worker.version()  # caches never shared across scopes
    assert worker.version() == _as(secured, "worker", "grids", ("G001",)).version()
    planner.update_rows(
        "grids", "grid_code", pd.DataFrame({"grid_code": ["G001"], "households": [3]})
    )
    assert planner.data_version() > before
    assert worker.data_version() == planner.data_version()  # every replica sees the same counter


def test_regridding_retags_population(secured):
    planner = _as(secured, "planner")
    grids = grids_frame(4)
    grids["grid_code"] = ["H001", "H002", "H003", "H004"]
    planner.write({"grids": grids})
    worker = _as(secured, "worker", "grids", ("H003",))
    assert _sql(worker, "SELECT residents FROM gridmap.population") == [(30,)]


def test_migrate_again_applies_nothing(pg_cluster, pg_template, capsys):
    owner = pg_cluster.url("gridmap_owner", pg_cluster.new_database(template=pg_template))
    capsys.readouterr()
    assert cli.main(["db", "migrate", "--owner-url", owner]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["applied"] == [] and summary["schema_version"] >= 1


def test_writer_lock_is_shared_by_every_connection(pg_url):
    from data.store import StoreBusy

    first, second = open_store(pg_url), open_store(pg_url + "&application_name=replica2")
    waits = []
    with (
        first.lock(),
        first.lock(),  # re-entrant in one thread
        pytest.raises(StoreBusy, match="another writer"),
        second.lock(timeout_s=0.2, on_wait=waits.append),
    ):
        pass
    assert len(waits) == 1
    with second.lock(timeout_s=0.2):
        pass


def test_import_into_postgis_appends_and_checks_keys(pg_url, tmp_path, capsys):
    path = tmp_path / "grids.geojson"
    grids_frame(3).to_file(path, driver="GeoJSON")
    capsys.readouterr()
    argv = ["import", str(path), "--layer", "grids", "--into", pg_url]
    assert cli.main([*argv, "--replace"]) == 0
    assert open_store(pg_url).read("grids")["grid_code"].tolist() == ["G001", "G002", "G003"]
    assert cli.main([*argv, "--append"]) != 0  # the same codes again: refused, nothing changed
    assert len(open_store(pg_url).read("grids")) == 3


def test_layer_versions_change_only_for_the_layer_written(secured):
    planner = _as(secured, "planner")
    before = planner.layer_versions()
    assert {"grids", "population"} <= set(before)
    planner.write({"shelters": small_layers()["shelters"]})
    after = planner.layer_versions()
    assert after["grids"] == before["grids"] and after["shelters"] != before.get("shelters")
    assert _as(secured, "viewer").layer_versions()["grids"] != after["grids"]  # per scope


def test_a_newer_version_migrates_an_older_schema(pg_cluster, capsys, monkeypatch):
    from data import pg_schema

    name = pg_cluster.new_database()
    owner = pg_cluster.url("gridmap_owner", name)
    monkeypatch.setattr(pg_schema, "MIGRATIONS", {1: pg_schema.MIGRATIONS[1]})
    assert cli.main(["db", "init", "--owner-url", owner, "--app-role", "gridmap_app"]) == 0
    monkeypatch.undo()
    store = open_store(pg_cluster.url("gridmap_app", name))
    store.write({"grids": grids_frame(2)})
    assert store.schema_version() == 1
    capsys.readouterr()
    assert cli.main(["db", "migrate", "--owner-url", owner]) == 0
    assert json.loads(capsys.readouterr().out)["applied"] == list(range(2, pg_schema.LATEST + 1))
    assert store.schema_version() == pg_schema.LATEST
    assert store.read("grids")["grid_code"].tolist() == ["G001", "G002"]  # data kept


def test_migrate_adds_a_layer_a_newer_version_declares(pg_cluster, pg_template, capsys):
    name = pg_cluster.new_database(template=pg_template)
    pg_cluster.psql(name, "DROP TABLE gridmap.villages")  # as if villages were a new layer
    owner = pg_cluster.url("gridmap_owner", name)
    assert cli.main(["db", "migrate", "--owner-url", owner]) == 0
    store = open_store(pg_cluster.url("gridmap_app", name))
    store.write({"villages": small_layers()["villages"]})
    assert len(store.read("villages")) == 2


def test_pages_act_as_the_signed_in_user(monkeypatch):
    import streamlit as st

    from auth.model import Scope, User
    from ui import data_access as da

    monkeypatch.setenv("GRIDMAP_STORE", "postgresql://app@db.example/city")
    monkeypatch.setattr(
        st, "session_state", {"auth_user": User("wang", "王芳", "worker", Scope("grids", ("G1",)))}
    )
    try:
        da._act_as_signed_in_user()
        assert open_store().identity == DbIdentity("worker", "grids", ("G1",))
        st.session_state.clear()  # signed out: the server's own role again
        da._act_as_signed_in_user()
        assert open_store().identity == DbIdentity("planner")
    finally:
        postgis.set_session_identity(None)
