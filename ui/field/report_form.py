"""My grid "上报": the report form for a grid worker's phone, and their own reports.

The form keeps a client-made submission id in the session until a submit succeeds, so a
resubmit after a failure (or a double tap) files one report; a failed submit keeps every
field filled. Widget keys carry the submission id: a successful submit starts an empty form.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st
import streamlit.components.v1 as components
from streamlit_folium import st_folium

from auth.model import User
from field import limits, states
from field.photos import PhotoError, clean_photo
from field.settings import URGENCIES, URGENCY_LABELS
from field.store import FieldStoreError
from field.submit import ReportError, check_report
from geo.crs import gcj02_to_wgs84
from layers.messages import in_lang
from maps import render
from ui import data_access as da
from ui.field import actor, keys
from ui.field import data as fd
from ui.i18n import lang, selectbox, tr
from ui.map_controls import tianditu_key
from ui.text import safe

_geolocate = components.declare_component(
    "gridmap_geolocate", path=str(Path(__file__).parent / "geolocate")
)
GEO_ERRORS = {
    "denied": (
        "定位权限被拒绝：请在浏览器设置中允许定位，或在地图上点选位置。",
        "Location permission was refused: allow it in the browser settings, or tap the map.",
    ),
    "unavailable": (
        "无法获取当前位置，请在地图上点选位置。",
        "The position is not available; tap the map instead.",
    ),
    "timeout": (
        "定位超时，请重试或在地图上点选位置。",
        "Locating timed out; retry or tap the map.",
    ),
    "unsupported": (
        "此浏览器不支持定位（或页面不是 https），请在地图上点选位置。",
        "This browser cannot locate (or the page is not https); tap the map.",
    ),
}


def _submission_id() -> str:
    if keys.SUBMISSION_ID not in st.session_state:
        st.session_state[keys.SUBMISSION_ID] = uuid.uuid4().hex
    return st.session_state[keys.SUBMISSION_ID]


def report_section(grid: gpd.GeoDataFrame, *, basemap: str) -> None:
    """The 上报 form for the grid in `grid` (one row) and the user's own reports."""
    code = str(grid.iloc[0]["grid_code"])
    user = actor.current_user(grid_code=code)
    done = st.session_state.pop(keys.SUBMITTED, None)
    if done:
        st.success(tr(f"已上报，编号 {safe(done)}。", f"Reported: {safe(done)}."))
    if user.role not in states.CREATE_ROLES:
        st.info(tr("您的角色不能上报事件。", "Your role cannot file reports."))
    else:
        report_form(grid, user, basemap=basemap)
    own_reports(user)


def _pick_location(grid: gpd.GeoDataFrame, *, basemap: str) -> tuple[float, float] | None:
    """Map tap or browser geolocation; returns (lon, lat) WGS84 or None."""
    prof = da.profile()
    m = render.base_map(prof, basemap, lang=lang(), view_counter=False, tianditu=tianditu_key())
    render.add_highlight(m, grid, name=tr("我的网格", "My grid"), key="field_grid")
    render.fit_to(m, grid, pad_m=80)
    picked = st.session_state.get(keys.LOCATION)
    if picked:
        lon, lat = picked[0], picked[1]
        if m.offsets == "gcj02":
            from geo.crs import wgs84_to_gcj02

            lon, lat = (float(v) for v in wgs84_to_gcj02(lon, lat))
        folium.Marker([lat, lon], tooltip=tr("上报位置", "Report location")).add_to(m)
    render.finish(m)
    st.caption(
        tr(
            "在地图上点选事件位置，或使用手机定位：",
            "Tap the map where the problem is, or use the phone's position:",
        )
    )
    out = st_folium(
        m,
        key=keys.FORM_MAP,
        height=300,
        use_container_width=True,
        returned_objects=["last_clicked"],
    )
    tap = (out or {}).get("last_clicked")
    if tap and tap != st.session_state.get(keys.LAST_TAP):
        st.session_state[keys.LAST_TAP] = tap
        lon, lat = float(tap["lng"]), float(tap["lat"])
        if m.offsets == "gcj02":
            lon, lat = (float(v) for v in gcj02_to_wgs84(lon, lat))
        st.session_state[keys.LOCATION] = (lon, lat, "map")
        st.rerun()
    geo = _geolocate(label=tr("使用手机定位", "Use my position"), key=keys.GEOLOCATE, default=None)
    if geo and geo != st.session_state.get(keys.LAST_GEO):
        st.session_state[keys.LAST_GEO] = geo
        if "error" in geo:
            zh, en = GEO_ERRORS.get(str(geo["error"]), GEO_ERRORS["unavailable"])
            st.warning(tr(zh, en))
        else:
            st.session_state[keys.LOCATION] = (float(geo["lon"]), float(geo["lat"]), "gps")
            st.rerun()
    picked = st.session_state.get(keys.LOCATION)
    if picked:
        source = (
            tr("地图点选", "map tap") if picked[2] == "map" else tr("手机定位", "phone position")
        )
        st.caption(tr("位置", "Location") + f": {picked[0]:.5f}, {picked[1]:.5f} ({source})")
        return picked[0], picked[1]
    return None


def report_form(grid: gpd.GeoDataFrame, user: User, *, basemap: str) -> None:
    rules = fd.rules()
    sid = _submission_id()
    location = _pick_location(grid, basemap=basemap)
    cats = list(rules.category_keys)
    with st.form(f"field_form_{sid}", clear_on_submit=False, border=True):
        category = selectbox(
            st,
            tr("类别", "Category"),
            cats,
            index=None,
            format_func=lambda k: rules.category(k).label(lang()),
            placeholder=tr("选择类别", "Pick a category"),
            key=f"{keys.CATEGORY}_{sid}",
        )
        urgency = st.radio(
            tr("紧急程度", "Urgency"),
            URGENCIES,
            format_func=lambda u: tr(*URGENCY_LABELS[u]),
            horizontal=True,
            key=f"{keys.URGENCY}_{sid}",
        )
        description = st.text_area(
            tr("描述", "Description"),
            max_chars=rules.description_max_chars,
            key=f"{keys.DESCRIPTION}_{sid}",
        )
        photos = st.file_uploader(
            tr("照片（拍照或从相册选择）", "Photos (camera or gallery)"),
            type=["jpg", "jpeg", "png", "webp"],
            accept_multiple_files=True,
            key=f"{keys.PHOTOS}_{sid}",
        )
        sent = st.form_submit_button(tr("提交上报", "Submit report"), type="primary")
    if sent:
        submit(grid, user, sid, category, urgency, description, photos or [], location)


def submit(grid, user: User, sid, category, urgency, description, uploads, location) -> None:
    """Check and store the report; on any problem show every message and keep the form."""
    rules = fd.rules()
    problems: list[str] = []
    cleaned = []
    for upload in uploads:
        try:
            cleaned.append(clean_photo(upload.getvalue(), rules, name=upload.name))
        except PhotoError as err:
            problems.append(in_lang(err.args[0], lang()))
    form = {
        "submission_id": sid,
        "category": category,
        "urgency": urgency,
        "description": description,
        "lon": location[0] if location else None,
        "lat": location[1] if location else None,
    }
    report = None
    try:
        report = check_report(
            form,
            rules=rules,
            profile=da.profile(),
            grids=da.locator_layer("grids"),
            villages=da.locator_layer("villages"),
            in_scope=lambda tags: actor.in_scope(user, tags),
            n_photos=len(uploads),
        )
    except ReportError as err:
        problems = err.texts(lang()) + problems
    if problems:
        st.error(
            tr("上报未成功，请修改后重新提交：", "Not filed; fix these and submit again:")
            + "\n"
            + "\n".join(f"- {safe(p)}" for p in problems)
        )
        return
    try:
        report_id, _created = fd.field_store().submit(report, cleaned, actor=user, now=fd.now())
    except (FieldStoreError, OSError) as err:
        st.error(
            tr("保存失败，表单已保留，请稍后重试：", "Could not save; the form is kept, retry: ")
            + safe(in_lang(err.args[0], lang()) if isinstance(err, FieldStoreError) else err)
        )
        return
    st.session_state.pop(keys.SUBMISSION_ID, None)
    st.session_state.pop(keys.LOCATION, None)
    st.session_state[keys.SUBMITTED] = report_id
    st.rerun()


def own_reports(user: User) -> None:
    """The user's own reports with their state, newest first."""
    st.markdown(f"**{tr('我上报的事件', 'My reports')}**")
    rules = fd.rules()
    reports = actor.scoped_reports(user, fd.reports())
    mine = reports[reports["reporter"] == user.name].sort_values("created_at", ascending=False)
    if mine.empty:
        st.caption(tr("还没有上报。", "No reports yet."))
        return
    late = limits.overdue(mine, rules, fd.now())
    table = pd.DataFrame(
        {
            tr("编号", "ID"): mine["report_id"],
            tr("时间", "Filed"): mine["created_at"]
            .dt.tz_convert("Asia/Shanghai")
            .dt.strftime("%m-%d %H:%M"),
            tr("类别", "Category"): [rules.category(c).label(lang()) for c in mine["category"]],
            tr("状态", "State"): [states.state_label(s, lang()) for s in mine["state"]],
            tr("超时", "Overdue"): late.map({True: "⚠", False: ""}),
            tr("描述", "Description"): mine["description"],
        }
    )
    st.dataframe(table, hide_index=True, use_container_width=True)
