"""Field reports in PostGIS: row-level security, idempotent submit, the same KPIs as GeoPackage.

Raw SQL goes through the app's own connection (:meth:`PostGISStore.transaction`), acting as
the role and scope of a user, so the policies of migration 3 are what is tested.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import psycopg
import pytest

import cli
from data.pg_field import PostGISFieldStore
from data.postgis import DbIdentity, PostGISStore
from data.store import StoreError, open_store
from field import kpis
from field.periods import period_of
from field.photos import Photo
from field.settings import field_rules
from field.store import (
    TIME_COLUMNS,
    FieldStoreError,
    GeoPackageFieldStore,
    NewReport,
    field_store,
)
from tests._importing_fixtures import grids_frame


@dataclass(frozen=True)
class Actor:
    name: str
    role: str


PLANNER = Actor("zhou", "planner")


def _report(grid: str, submission: str, street: str = "街道甲") -> NewReport:
    return NewReport(
        submission_id=submission,
        category="garbage",
        urgency="ordinary",
        description="垃圾堆放",
        lon=110.79,
        lat=32.63,
        grid_code=grid,
        community=None,
        street=street,
        district=None,
    )


@pytest.fixture
def secured(pg_url) -> str:
    """Four grids in two streets (G001, G002 in 街道甲; G003, G004 in 街道乙), one report each."""
    grids = grids_frame(4)
    grids["street"] = ["街道甲", "街道甲", "街道乙", "街道乙"]
    planner = PostGISStore(pg_url, identity=DbIdentity("planner"))
    planner.write({"grids": grids})
    fs = field_store(planner)
    for code, street in zip(grids["grid_code"], grids["street"], strict=True):
        fs.submit(_report(code, f"sub-{code}", street), [], actor=PLANNER, now="2026-07-01T08:00Z")
    return pg_url


def _as(url: str, role: str, level: str = "city", values: tuple[str, ...] = ()) -> PostGISStore:
    return PostGISStore(url, identity=DbIdentity(role, level, values))


def _sql(store: PostGISStore, query: str, params=()):
    with store.transaction() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description else cur.rowcount


_INSERT = (
    "INSERT INTO gridmap.field_reports (report_id, submission_id, category, urgency, lon, lat, "
    "grid_code, reporter, created_at, state_at) "
    "VALUES (%s, %s, 'garbage', 'ordinary', 110.8, 32.6, %s, 'x', now(), now())"
)


def test_field_store_opens_either_backend(secured, writable_demo_store):
    assert isinstance(field_store(open_store(secured)), PostGISFieldStore)
    assert isinstance(field_store(open_store(writable_demo_store)), GeoPackageFieldStore)
    assert isinstance(field_store(str(writable_demo_store)), GeoPackageFieldStore)


def test_worker_reads_and_adds_only_in_own_grids(secured):
    worker = _as(secured, "worker", "grids", ("G002",))
    assert _sql(worker, "SELECT grid_code FROM gridmap.field_reports") == [("G002",)]
    assert len(_sql(worker, "SELECT * FROM gridmap.field_steps")) == 1
    assert field_store(worker).reports()["grid_code"].tolist() == ["G002"]
    with pytest.raises(StoreError, match="not allowed"):
        _sql(worker, _INSERT, ("EVX1", "sub-x1", "G001"))
    assert _sql(worker, _INSERT, ("EVX2", "sub-x2", "G002")) == 1
    with pytest.raises(StoreError, match="not allowed"):
        field_store(worker).submit(
            _report("G003", "sub-w3"), [], actor=Actor("w", "worker"), now="2026-07-02T00:00Z"
        )
    # a step on another grid's report: the worker cannot even see it
    other = _sql(
        _as(secured, "planner"),
        "SELECT report_id FROM gridmap.field_reports WHERE grid_code = 'G001'",
    )
    with pytest.raises(FieldStoreError, match="no report"):
        field_store(worker).step(
            other[0][0], "accepted", actor=Actor("w", "worker"), now="2026-07-02T00:00Z"
        )
    assert _sql(worker, "UPDATE gridmap.field_reports SET state = 'closed'") == 2  # G002's two
    states = dict(
        _sql(_as(secured, "planner"), "SELECT grid_code, state FROM gridmap.field_reports")
    )
    assert states["G001"] == "new" and states["G002"] == "closed"
    with pytest.raises(StoreError, match="not allowed"):
        _sql(worker, "DELETE FROM gridmap.field_reports")


def test_staff_viewer_and_planner_scopes(secured):
    staff = _as(secured, "staff", "street", ("街道乙",))
    assert sorted(_sql(staff, "SELECT grid_code FROM gridmap.field_reports")) == [
        ("G003",),
        ("G004",),
    ]
    with pytest.raises(StoreError, match="not allowed"):
        _sql(staff, _INSERT, ("EVS1", "sub-s1", "G001"))
    assert _sql(staff, _INSERT, ("EVS2", "sub-s2", "G004")) == 1
    viewer = _as(secured, "viewer", "street", ("街道甲",))
    assert len(_sql(viewer, "SELECT * FROM gridmap.field_reports")) == 2
    with pytest.raises(StoreError, match="not allowed"):
        _sql(viewer, _INSERT, ("EVV1", "sub-v1", "G001"))
    with pytest.raises(StoreError, match="not allowed"):
        _sql(viewer, "UPDATE gridmap.field_reports SET state = 'closed'")
    assert len(_sql(_as(secured, "planner"), "SELECT * FROM gridmap.field_reports")) == 5


def test_resubmit_is_idempotent_and_audited_once(secured):
    worker = _as(secured, "worker", "grids", ("G002",))
    fs = field_store(worker)
    actor = Actor("wang", "worker")
    first, created = fs.submit(
        _report("G002", "sub-again"), [], actor=actor, now="2026-07-03T00:00Z"
    )
    again, created_again = fs.submit(
        _report("G002", "sub-again"), [], actor=actor, now="2026-07-03T00:01Z"
    )
    assert created and not created_again and first == again
    planner = _as(secured, "planner")
    rows = _sql(
        planner, "SELECT count(*) FROM gridmap.field_reports WHERE submission_id = 'sub-again'"
    )
    assert rows == [(1,)]
    audit = _sql(
        planner,
        "SELECT detail FROM gridmap.audit_log WHERE action = 'field_report' AND user_name = 'wang'",
    )
    assert [a[0]["report_id"] for a in audit] == [first]
    # the same submission id from someone who cannot see the first report stores nothing
    other = field_store(_as(secured, "worker", "grids", ("G003",)))
    with pytest.raises(FieldStoreError, match="already stored"):
        other.submit(_report("G003", "sub-again"), [], actor=actor, now="2026-07-03T00:02Z")


def test_step_photo_limit_and_audit_in_one_transaction(secured):
    staff = _as(secured, "staff", "street", ("街道甲",))
    fs = field_store(staff)
    rid = fs.reports()["report_id"].iloc[0]
    fs.step(rid, "accepted", actor=Actor("li", "staff"), now="2026-07-04T00:00Z", note="收到")
    assert fs.report(rid)["state"] == "accepted"
    assert fs.steps(rid)["to_state"].tolist() == ["new", "accepted"]
    planner = _as(secured, "planner")
    with pytest.raises(psycopg.errors.CheckViolation, match="field_photos_data_check"):
        _sql(
            planner,
            "INSERT INTO gridmap.field_photos (report_id, data, width, height, sha256, created_at) "
            "VALUES (%s, %s, 1, 1, 'x', now())",
            (rid, b"\0" * (2 * 1024 * 1024 + 1)),
        )
    before = _sql(planner, "SELECT count(*) FROM gridmap.audit_log")
    with pytest.raises(FieldStoreError, match="over the"):
        fs.submit(
            _report("G001", "sub-big"),
            [Photo(b"\0" * (2 * 1024 * 1024 + 1), 1, 1, "x")],
            actor=Actor("li", "staff"),
            now="2026-07-04T02:00Z",
        )
    assert _sql(planner, "SELECT count(*) FROM gridmap.audit_log") == before
    assert _sql(
        planner, "SELECT count(*) FROM gridmap.field_reports WHERE submission_id = 'sub-big'"
    ) == [(0,)]


@pytest.fixture(scope="module")
def demo_field_pg(pg_cluster, pg_template, demo_store_path) -> str:
    """The demo store (with its field reports) copied to PostGIS with ``db copy``."""
    url = pg_cluster.url("gridmap_app", pg_cluster.new_database(template=pg_template))
    assert cli.main(["db", "copy", "--from", str(demo_store_path), "--to", url]) == 0
    return url


def test_db_copy_and_kpis_equal_on_both_backends(demo_field_pg, demo_store_path, capsys):
    gpkg = GeoPackageFieldStore(demo_store_path)
    pg = field_store(_as(demo_field_pg, "planner"))
    a, b = gpkg.reports(), pg.reports()
    assert len(a) > 0 and len(a) == len(b)
    a = a.sort_values("report_id").reset_index(drop=True)
    for col in TIME_COLUMNS:  # PostgreSQL keeps times to the microsecond
        a[col] = a[col].dt.round("us")
    b = b.sort_values("report_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry"))
    )
    assert len(gpkg.steps()) == len(pg.steps())
    va, vb = gpkg.visits(), pg.visits()
    assert len(va) == len(vb) and va["households_visited"].sum() == vb["households_visited"].sum()
    rules = field_rules()
    now = a["created_at"].max()
    period = period_of(pd.Series([now])).iloc[0]
    for level in ("city", "street", "community"):
        ka = kpis.report_kpis(a, rules, period=period, level=level, now=now)
        kb = kpis.report_kpis(b, rules, period=period, level=level, now=now)
        assert ka["reports"].sum() > 0
        pd.testing.assert_frame_equal(ka, kb)
    # the exports' field section reads either backend through field_store()
    from geo.settings import load_profile
    from reports.build import _field_summary

    profile = load_profile()
    sums = [
        _field_summary(s, period, profile, {"grids": s.read("grids")})
        for s in (open_store(demo_store_path), _as(demo_field_pg, "planner"))
    ]
    assert sums[0] is not None and sums[1] is not None
    pd.testing.assert_frame_equal(sums[0].city, sums[1].city)
    # the copy prints the field tables too
    capsys.readouterr()
    assert cli.main(["db", "copy", "--from", str(demo_store_path), "--to", demo_field_pg]) == 0
    tables = json.loads(capsys.readouterr().out)["tables"]
    assert tables["field_reports"] == len(a)


def test_db_copy_carries_photos_linked_to_their_steps(secured, tmp_path, capsys):
    planner = _as(secured, "planner")
    photo = Photo(data=b"\xff\xd8 not really a jpeg", width=4, height=3, sha256="abc")
    rid, _ = field_store(planner).submit(
        _report("G001", "sub-photo"), [photo], actor=PLANNER, now="2026-07-05T00:00Z"
    )
    out = tmp_path / "copy.gpkg"
    assert cli.main(["db", "copy", "--from", secured, "--to", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["db", "copy", "--from", str(out), "--to", secured]) == 0  # and back
    tables = json.loads(capsys.readouterr().out)["tables"]
    assert tables["field_photos"] == 1 and tables["field_reports"] == 5
    for fs in (GeoPackageFieldStore(out), field_store(planner)):
        photos = fs.photos(rid)
        assert photos["data"].tolist() == [photo.data]
        steps = fs.steps(rid)
        assert steps["photo_id"].notna().tolist() == [True]
        assert steps["to_state"].tolist() == ["new"]


def test_db_copy_is_one_transaction_on_postgis(secured, demo_store_path, monkeypatch):
    """A failure in the field part of ``db copy`` rolls the layers back too."""
    planner = _as(secured, "planner")
    before = planner.checksum()
    reports_before = len(field_store(planner).reports())
    original = PostGISFieldStore.write_bulk

    def fail_after_writing(self, *args, **kwargs):
        original(self, *args, **kwargs)  # the field tables are replaced, then it fails
        raise FieldStoreError("disk full while copying field photos")

    monkeypatch.setattr(PostGISFieldStore, "write_bulk", fail_after_writing)
    assert cli.main(["db", "copy", "--from", str(demo_store_path), "--to", secured]) == 2
    assert planner.checksum() == before
    assert len(field_store(planner).reports()) == reports_before == 4
    assert len(planner.read("grids")) == 4
