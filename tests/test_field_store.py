"""Field reports in the store: idempotent submit, steps, photos, visits; checking the form."""

from __future__ import annotations

import io
import sqlite3
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from field.photos import PhotoError, clean_photo
from field.settings import field_rules
from field.states import TransitionError
from field.store import FieldStoreError, GeoPackageFieldStore
from field.submit import ReportError, check_report
from geo.settings import load_profile


@dataclass(frozen=True)
class Actor:
    name: str
    role: str


WORKER = Actor("wang", "worker")
STAFF = Actor("li", "staff")


@pytest.fixture(scope="module")
def rules():
    return field_rules()


def _jpeg(width: int, height: int, *, exif: bool = True) -> bytes:
    image = Image.new("RGB", (width, height), (200, 60, 30))
    buffer = io.BytesIO()
    if exif:
        info = Image.Exif()
        info[0x010F] = "PhoneMaker"  # Make
        info[0x0110] = "Model X"  # Model
        info[0x8825] = {1: "N", 2: (32.0, 38.0, 0.0)}  # GPS IFD
        image.save(buffer, format="JPEG", exif=info)
    else:
        image.save(buffer, format="JPEG")
    return buffer.getvalue()


# ----------------------------------------------------------------- photos
def test_photo_resized_and_stripped(rules):
    raw = _jpeg(3000, 2000)
    assert Image.open(io.BytesIO(raw)).getexif()
    photo = clean_photo(raw, rules)
    image = Image.open(io.BytesIO(photo.data))
    assert image.format == "JPEG" and max(image.size) == 1600 and image.size == (1600, 1067)
    assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
    assert b"PhoneMaker" not in photo.data and b"Model X" not in photo.data


def test_small_png_kept_small(rules):
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 0, 255, 128)).save(buffer, format="PNG")
    photo = clean_photo(buffer.getvalue(), rules)
    assert (photo.width, photo.height) == (40, 30)


def test_non_image_renamed_jpg_refused(rules):
    with pytest.raises(PhotoError, match="invoice.jpg: not an image"):
        clean_photo(b"%PDF-1.7 not a photo at all" * 50, rules, name="invoice.jpg")
    with pytest.raises(PhotoError, match="empty"):
        clean_photo(b"", rules)


def test_truncated_image_refused(rules):
    raw = _jpeg(800, 600, exif=False)
    with pytest.raises(PhotoError, match="damaged|not an image"):
        clean_photo(raw[: len(raw) // 2], rules, name="cut.jpg")


def test_huge_photo_refused(rules):
    tiny = replace(rules, photo_max_upload_mb=0.01)
    with pytest.raises(PhotoError, match="larger than the limit"):
        clean_photo(_jpeg(800, 600) + b"\0" * 20_000, tiny, name="big.jpg")
    few = replace(rules, photo_max_pixels=1000)
    with pytest.raises(PhotoError, match="pixels"):
        clean_photo(_jpeg(100, 100), few)


# ----------------------------------------------------------------- the form
@pytest.fixture(scope="module")
def demo_layers(demo_store_path):
    from data.store import GeoPackageStore

    store = GeoPackageStore(demo_store_path)
    return store.read("grids"), store.read("villages")


def _form(grid, **values):
    point = grid.geometry.representative_point()
    return {
        "submission_id": "sub-0001-abcd",
        "category": "garbage",
        "urgency": "ordinary",
        "description": "垃圾没清运",
        "lon": point.x,
        "lat": point.y,
        **values,
    }


def test_check_report_files_under_the_grid(rules, demo_layers):
    grids, villages = demo_layers
    grid = grids.iloc[5]
    mine = lambda tags: tags["grid_code"].isin([grid["grid_code"]])  # noqa: E731
    report = check_report(
        _form(grid), rules=rules, profile=load_profile(), grids=grids, in_scope=mine
    )
    assert report.grid_code == grid["grid_code"] and report.street == grid["street"]


def test_check_report_collects_every_problem(rules, demo_layers):
    grids, _ = demo_layers
    other = grids.iloc[6]
    mine = lambda tags: tags["grid_code"].isin([grids.iloc[5]["grid_code"]])  # noqa: E731
    with pytest.raises(ReportError) as err:
        check_report(
            _form(other, category="ufo", description="x" * 5000),
            rules=rules,
            profile=load_profile(),
            grids=grids,
            in_scope=mine,
        )
    text = str(err.value)
    assert "category: 'ufo'" in text and "description: 5,000 characters" in text
    assert "not in your grids" in text and other["grid_code"] in text
    with pytest.raises(ReportError, match="outside Shiyan"):
        check_report(
            _form(other, lon=116.4, lat=39.9), rules=rules, profile=load_profile(), grids=grids
        )
    with pytest.raises(ReportError, match="tap the map"):
        check_report(
            _form(other, lon=None, lat="nan"), rules=rules, profile=load_profile(), grids=grids
        )


def test_rural_report_filed_under_the_village(rules, demo_layers):
    grids, villages = demo_layers
    village = villages.iloc[0]
    form = _form(grids.iloc[0], category="rural_sewage")
    form.update(lon=village.geometry.x + 0.001, lat=village.geometry.y)
    report = check_report(form, rules=rules, profile=load_profile(), grids=grids, villages=villages)
    assert report.grid_code is None and report.community == village["name"]
    assert report.street == village["township"]


# ----------------------------------------------------------------- store
@pytest.fixture
def fstore(writable_demo_store):
    return GeoPackageFieldStore(writable_demo_store)


def _new(fstore, rules, grid, submission="sub-0001-abcd", photos=()):
    report = check_report(
        _form(grid, submission_id=submission),
        rules=rules,
        profile=load_profile(),
        grids=fstore_grids(fstore),
    )
    return fstore.submit(report, list(photos), actor=WORKER, now="2026-07-01T00:00Z")


def fstore_grids(fstore):
    from data.store import GeoPackageStore

    return GeoPackageStore(fstore.path).read("grids")


def test_double_submit_creates_one_report(fstore, rules):
    grid = fstore_grids(fstore).iloc[3]
    photo = clean_photo(_jpeg(2000, 1500), rules)
    first, created = _new(fstore, rules, grid, photos=[photo])
    again, created_again = _new(fstore, rules, grid, photos=[photo])
    assert created and not created_again and first == again
    reports = fstore.reports(where="synthetic = 0")
    assert len(reports) == 1 and reports.iloc[0]["state"] == "new"
    assert reports.crs.to_epsg() == 4326
    assert len(fstore.photos(first)) == 1
    steps = fstore.steps(first)
    assert steps["to_state"].tolist() == ["new"] and steps["actor"].tolist() == ["wang"]


def test_steps_follow_the_flow_and_are_recorded(fstore, rules):
    grid = fstore_grids(fstore).iloc[3]
    rid, _ = _new(fstore, rules, grid)
    with pytest.raises(TransitionError, match="role 'worker'"):
        fstore.step(rid, "accepted", actor=WORKER, now="2026-07-01T00:10Z")
    fstore.step(rid, "accepted", actor=STAFF, now="2026-07-01T00:20Z", note="收到")
    fstore.step(rid, "dispatched", actor=STAFF, now="2026-07-01T00:30Z", assignee="环卫所")
    photo = clean_photo(_jpeg(640, 480), rules)
    fstore.step(rid, "handled", actor=WORKER, now="2026-07-01T05:00Z", photo=photo)
    with pytest.raises(TransitionError, match="cannot go from 'handled' to 'closed'"):
        fstore.step(rid, "closed", actor=STAFF, now="2026-07-01T06:00Z")
    fstore.step(rid, "checked", actor=STAFF, now="2026-07-01T06:00Z")
    fstore.step(rid, "closed", actor=STAFF, now="2026-07-01T07:00Z")
    row = fstore.report(rid)
    assert row["state"] == "closed" and row["assignee"] == "环卫所"
    assert row["handled_at"] == pd.Timestamp("2026-07-01T05:00Z")
    assert row["closed_at"] == pd.Timestamp("2026-07-01T07:00Z")
    steps = fstore.steps(rid)
    assert steps["to_state"].tolist() == [
        "new",
        "accepted",
        "dispatched",
        "handled",
        "checked",
        "closed",
    ]
    assert steps["note"].iloc[1] == "收到"
    assert steps["photo_id"].notna().tolist() == [False, False, False, True, False, False]
    with pytest.raises(FieldStoreError, match="no report"):
        fstore.step("EVnope", "accepted", actor=STAFF, now="2026-07-01")


def test_duplicate_needs_the_original(fstore, rules):
    grid = fstore_grids(fstore).iloc[3]
    first, _ = _new(fstore, rules, grid, submission="sub-first-0001")
    second, _ = _new(fstore, rules, grid, submission="sub-second-0002")
    with pytest.raises(FieldStoreError, match="must name the report"):
        fstore.step(second, "duplicate", actor=STAFF, now="2026-07-02")
    fstore.step(second, "duplicate", actor=STAFF, now="2026-07-02", duplicate_of=first)
    assert fstore.report(second)["duplicate_of"] == first


def test_every_step_goes_to_the_audit_log(fstore, rules):
    grid = fstore_grids(fstore).iloc[3]
    rid, _ = _new(fstore, rules, grid)
    fstore.step(rid, "accepted", actor=STAFF, now="2026-07-01T00:20Z")
    con = sqlite3.connect(fstore.path)
    rows = con.execute(
        "SELECT user_name, action, detail FROM audit_log WHERE action LIKE 'field%' ORDER BY id"
    ).fetchall()
    con.close()
    assert [r[:2] for r in rows] == [("wang", "field_report"), ("li", "field_step")]
    assert rid in rows[1][2] and '"to": "accepted"' in rows[1][2]


def test_photo_blob_limit_in_the_table(fstore, rules):
    from field.photos import Photo

    grid = fstore_grids(fstore).iloc[3]
    rid, _ = _new(fstore, rules, grid)
    huge = Photo(
        data=np.zeros(3 * 1024 * 1024, dtype=np.uint8).tobytes(), width=1, height=1, sha256="x"
    )
    with pytest.raises(FieldStoreError, match="over the"):
        fstore.step(rid, "accepted", actor=STAFF, now="2026-07-01T01:00Z", photo=huge)
    # the failed step left nothing behind
    assert fstore.report(rid)["state"] == "new" and len(fstore.steps(rid)) == 1


def test_visits_stored(fstore):
    fstore.add_visits(
        [
            {
                "grid_code": "G1",
                "household": "3-201",
                "visited_on": "2026-07-02",
                "households_visited": 1,
            },
            {
                "grid_code": "G1",
                "household": None,
                "visited_on": "2026-07-03",
                "households_visited": 40,
            },
        ],
        actor=WORKER,
        now="2026-07-03",
    )
    table = fstore.visits()
    table = table[table["synthetic"] == 0]
    assert table["households_visited"].sum() == 41 and set(table["worker"]) == {"wang"}


def test_refusals_a_worker_or_staff_member_meets_are_in_both_languages(fstore, rules):
    """The phone form and the dispatch page show these errors in the UI language (in_lang):
    each carries its Chinese text as well as the English one."""
    from layers.messages import in_lang

    with pytest.raises(PhotoError) as empty:
        clean_photo(b"", rules, name="p.jpg")
    assert in_lang(empty.value.args[0], "zh") == "p.jpg：文件为空"
    with pytest.raises(PhotoError) as big:
        clean_photo(_jpeg(800, 600) + b"\0" * 20_000, replace(rules, photo_max_upload_mb=0.01))
    assert "超过 0 MB 的上限" in in_lang(big.value.args[0], "zh")
    grid = fstore_grids(fstore).iloc[2]
    rid, _ = _new(fstore, rules, grid, submission="sub-0002-lang")
    with pytest.raises(TransitionError) as role:
        fstore.step(rid, "accepted", actor=WORKER, now="2026-07-01T00:10Z")
    assert in_lang(role.value.args[0], "zh") == "当前角色不能把事件从“待受理”改为“已受理”"
    assert "role 'worker'" in in_lang(role.value.args[0], "en")
    with pytest.raises(TransitionError) as flow:
        fstore.step(rid, "closed", actor=STAFF, now="2026-07-01T00:10Z")
    assert in_lang(flow.value.args[0], "zh").startswith("事件不能从“待受理”改为“已结案”（可改为：")
    with pytest.raises(FieldStoreError) as missing:
        fstore.step("no-such-report", "accepted", actor=STAFF, now="2026-07-01T00:10Z")
    assert in_lang(missing.value.args[0], "zh") == "没有事件 'no-such-report'"
