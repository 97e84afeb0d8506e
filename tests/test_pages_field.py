"""AppTest of the field-report UI on the tiny store: report form, queue, Progress section."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point
from streamlit.testing.v1 import AppTest

from field.store import GeoPackageFieldStore
from tests._auth import signed_in_app
from tests._map_fixtures import ROOT_APP, X0, Y0, write_tiny_store
from ui.field import keys

TIMEOUT = 120


def _lonlat(x: float, y: float) -> tuple[float, float]:
    p = gpd.GeoSeries([Point(X0 + x, Y0 + y)], crs="EPSG:4546").to_crs("EPSG:4326").iloc[0]
    return p.x, p.y


@pytest.fixture
def tiny_store(tmp_path, monkeypatch):
    path = write_tiny_store(tmp_path / "tiny.gpkg")
    monkeypatch.setenv("GRIDMAP_STORE", str(path))
    return path


def _my_grid(grid: str = "G05", location: tuple[float, float] | None = None) -> AppTest:
    at = signed_in_app(str(ROOT_APP), role="worker", scope=f"grids:{grid}", default_timeout=TIMEOUT)
    at.query_params["grid"] = grid
    at.switch_page("ui/pages/my_grid.py")
    if location:
        at.session_state[keys.LOCATION] = (*location, "map")
    at.run()
    assert not at.exception, at.exception
    return at


def _fill(at: AppTest, *, category="garbage", description="垃圾没清运") -> None:
    sid = at.session_state[keys.SUBMISSION_ID]
    at.selectbox(key=f"{keys.CATEGORY}_{sid}").set_value(category)
    at.text_area(key=f"{keys.DESCRIPTION}_{sid}").set_value(description)


def _submit(at: AppTest) -> AppTest:
    at.button[[b.label for b in at.button].index("提交上报")].click().run()
    assert not at.exception, at.exception
    return at


def test_report_from_my_grid_is_stored_and_listed(tiny_store):
    at = _my_grid(location=_lonlat(700, 700))  # inside G05
    evil = "**bold** [link](http://evil.example) <img src=x onerror=alert(1)> :red[x]"
    _fill(at, description=evil)
    _submit(at)
    assert any("已上报" in s.value for s in at.success)
    reports = GeoPackageFieldStore(tiny_store).reports()
    assert len(reports) == 1
    row = reports.iloc[0]
    assert row["grid_code"] == "G05" and row["description"] == evil and row["state"] == "new"
    # the worker's list shows the description as a literal table cell
    table = at.dataframe[-1].value
    assert evil in table.iloc[:, -1].tolist()
    # a fresh form after success
    assert at.session_state[keys.SUBMISSION_ID] != row["submission_id"]


def test_report_outside_own_grid_refused_and_form_kept(tiny_store):
    at = _my_grid(location=_lonlat(1200, 200))  # inside G03, not G05
    _fill(at, description="隔壁网格的问题")
    sid = at.session_state[keys.SUBMISSION_ID]
    _submit(at)
    text = " ".join(e.value for e in at.error)
    assert "不是您负责的网格" in text and "G03" in text
    assert GeoPackageFieldStore(tiny_store).reports().empty
    # the form is kept: same submission id, same values
    assert at.session_state[keys.SUBMISSION_ID] == sid
    assert at.text_area(key=f"{keys.DESCRIPTION}_{sid}").value == "隔壁网格的问题"


def test_report_outside_shiyan_and_without_location(tiny_store):
    at = _my_grid(location=(116.40, 39.90))  # Beijing
    _fill(at)
    _submit(at)
    assert any("不在十堰市范围内" in e.value for e in at.error)
    at2 = _my_grid()
    _fill(at2)
    _submit(at2)
    assert any("请在地图上点选位置" in e.value for e in at2.error)
    assert GeoPackageFieldStore(tiny_store).reports().empty


def test_double_submit_files_one_report(tiny_store):
    at = _my_grid(location=_lonlat(700, 700))
    _fill(at)
    sid = at.session_state[keys.SUBMISSION_ID]
    _submit(at)
    # the phone resends the same form (same submission id) after a dropped answer
    at.session_state[keys.SUBMISSION_ID] = sid
    at.session_state[keys.LOCATION] = (*_lonlat(700, 700), "map")
    at.run()
    _fill(at)
    _submit(at)
    assert len(GeoPackageFieldStore(tiny_store).reports()) == 1


# ----------------------------------------------------------------- dispatch queue
def _queue(store_path) -> AppTest:
    at = signed_in_app(str(ROOT_APP), default_timeout=TIMEOUT)
    at.switch_page("ui/pages/dispatch.py")
    at.run()
    assert not at.exception, at.exception
    return at


def _file_one(store_path, description="垃圾没清运"):
    at = _my_grid(location=_lonlat(700, 700))
    _fill(at, description=description)
    _submit(at)
    return GeoPackageFieldStore(store_path).reports().iloc[0]["report_id"]


def _step(at: AppTest, target_label: str, note: str = "") -> AppTest:
    at.radio[0].set_value(_target(target_label))
    if note:
        at.text_input[0].set_value(note)
    at.button[[b.label for b in at.button].index("确认")].click().run()
    assert not at.exception, at.exception
    return at


def _target(label: str) -> str:
    from field.states import TRANSITIONS

    return next(t.target for t in TRANSITIONS if t.action_zh == label)


def test_queue_accept_dispatch_close(tiny_store):
    rid = _file_one(tiny_store, description="<b>x</b> [a](http://e.x)")
    at = _queue(tiny_store)
    assert {m.label: m.value for m in at.metric}["事件"] == "1"
    at.selectbox(key=keys.QUEUE_PICK).set_value(rid).run()
    # the description is escaped Markdown: no link or tag can form
    assert any("\\<b\\>" in m.value and "\\[a\\]" in m.value for m in at.markdown)
    for label in ("受理", "派遣", "处置完成", "核查通过", "结案"):
        _step(at, label, note=f"{label}说明")
    store = GeoPackageFieldStore(tiny_store)
    assert store.report(rid)["state"] == "closed"
    steps = store.steps(rid)
    assert steps["to_state"].tolist()[-1] == "closed" and steps["note"].iloc[1] == "受理说明"
    assert {a.split("_")[0] for a in steps["actor"].iloc[1:]} == {"test"}  # the signed-in planner


# ----------------------------------------------------------------- Progress section
@pytest.fixture
def progress_store(tmp_path, monkeypatch):
    from tests._progress_fixtures import write_tiny_store as write_progress_store

    path = tmp_path / "progress.gpkg"
    write_progress_store(path)
    monkeypatch.setenv("GRIDMAP_STORE", str(path))
    return path


def _progress_field(path) -> AppTest:
    at = signed_in_app(str(ROOT_APP), default_timeout=TIMEOUT)
    at.switch_page("ui/pages/progress.py")
    at.run()
    at.segmented_control(key="progress_section").set_value("field").run()
    assert not at.exception, at.exception
    return at


def test_progress_field_kpis_follow_the_steps(progress_store):
    from dataclasses import dataclass

    from data.store import GeoPackageStore
    from field.settings import field_rules
    from field.submit import check_report
    from geo.settings import load_profile
    from tests._progress_fixtures import X0 as PX
    from tests._progress_fixtures import Y0 as PY

    @dataclass(frozen=True)
    class Who:
        name: str
        role: str

    grids = GeoPackageStore(progress_store).read("grids")
    lon, lat = (
        gpd.GeoSeries([Point(PX + 500, PY + 1000)], crs="EPSG:4546").to_crs(4326).iloc[0].coords[0]
    )
    store = GeoPackageFieldStore(progress_store)
    ids = []
    for n in range(2):
        form = {
            "submission_id": f"sub-progress-{n:04d}",
            "category": "garbage",
            "lon": lon,
            "lat": lat,
        }
        report = check_report(form, rules=field_rules(), profile=load_profile(), grids=grids)
        ids.append(store.submit(report, [], actor=Who("w", "worker"), now="2026-07-01T01:00Z")[0])
    at = _progress_field(progress_store)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["上报数"] == "2" and metrics["按时处置率"] == "0.0%"  # both past 24 h at Q3 end
    assert metrics["超时未办"] == "2"
    staff = Who("s", "staff")
    for target, at_time in (
        ("accepted", "02:00"),
        ("dispatched", "03:00"),
        ("handled", "05:00"),
        ("checked", "06:00"),
        ("closed", "07:00"),
    ):
        store.step(ids[0], target, actor=staff, now=f"2026-07-01T{at_time}Z")
    at = _progress_field(progress_store)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["按时处置率"] == "50.0%" and metrics["超时未办"] == "1"
    assert metrics["结案时长中位数(小时)"] == "6.0"
