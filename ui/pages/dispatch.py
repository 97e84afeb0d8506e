"""Dispatch queue (事件处置): reports in the user's scope, overdue first; each step recorded.

Street/community staff and planners accept, dispatch, check and close reports, or mark them
rejected or duplicate; possible duplicates (same category nearby, still open) are offered.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from field import states
from field.duplicates import possible_duplicates
from field.photos import PhotoError, clean_photo
from field.queue import queue_order
from field.store import FieldStoreError
from layers.messages import in_lang
from maps import render
from ui import data_access as da
from ui.field import actor, keys
from ui.field import data as fd
from ui.field.mapping import add_state_points
from ui.i18n import lang, multiselect, selectbox, tr
from ui.map_controls import basemap_select, open_map_store, tianditu_key
from ui.text import safe

#: Most reports drawn on the queue map (overdue and newest first); the list holds them all.
MAP_LIMIT = 2000
TIME_WINDOWS = {
    7: ("近 7 天", "Last 7 days"),
    30: ("近 30 天", "Last 30 days"),
    92: ("近 3 个月", "Last 3 months"),
    365: ("近 1 年", "Last year"),
    0: ("全部", "All"),
}
#: Most reports offered in the pick list (the queue's order: overdue first).
PICK_LIMIT = 1000
DEFAULT_STATES = ("new", "accepted", "dispatched", "handled", "checked")


def filters(reports: pd.DataFrame, rules) -> pd.DataFrame:
    """Sidebar filters: state, category, area, time."""
    side = st.sidebar
    chosen_states = multiselect(
        side,
        tr("状态", "State"),
        states.STATES,
        default=list(DEFAULT_STATES),
        format_func=lambda s: states.state_label(s, lang()),
        key=keys.QUEUE_STATES,
        placeholder=tr("选择状态", "Pick states"),
    )
    cats = multiselect(
        side,
        tr("类别", "Category"),
        rules.category_keys,
        format_func=lambda k: rules.category(k).label(lang()),
        key=keys.QUEUE_CATEGORIES,
        placeholder=tr("全部类别", "All categories"),
    )
    areas = sorted(
        {
            f"{s} · {c}"
            for s, c in zip(reports["street"], reports["community"], strict=True)
            if isinstance(s, str)
        }
    )
    area = selectbox(
        side,
        tr("街道 · 社区", "Street · community"),
        areas,
        index=None,
        placeholder=tr("全部", "All"),
        key=keys.QUEUE_AREA,
    )
    days = selectbox(
        side,
        tr("时间", "Time"),
        list(TIME_WINDOWS),
        index=len(TIME_WINDOWS) - 1,
        format_func=lambda d: tr(*TIME_WINDOWS[d]),
        key=keys.QUEUE_DAYS,
    )
    mask = reports["state"].isin(chosen_states)
    if cats:
        mask &= reports["category"].isin(cats)
    if area:
        street, community = area.split(" · ", 1)
        mask &= reports["street"].eq(street) & reports["community"].eq(community)
    if days:
        mask &= reports["created_at"] >= fd.now() - pd.Timedelta(days=days)
    return reports[mask.to_numpy()]


def list_table(frame: pd.DataFrame, rules) -> pd.DataFrame:
    return pd.DataFrame(
        {
            tr("超时", "Overdue"): frame["overdue"].map({True: "⚠", False: ""}),
            tr("编号", "ID"): frame["report_id"],
            tr("上报时间", "Filed"): frame["created_at"]
            .dt.tz_convert("Asia/Shanghai")
            .dt.strftime("%Y-%m-%d %H:%M"),
            tr("类别", "Category"): [rules.category(c).label(lang()) for c in frame["category"]],
            tr("紧急", "Urgent"): frame["urgency"].map({"urgent": "!", "ordinary": ""}),
            tr("状态", "State"): [states.state_label(s, lang()) for s in frame["state"]],
            tr("街道", "Street"): frame["street"],
            tr("社区", "Community"): frame["community"],
            tr("描述", "Description"): frame["description"],
        }
    )


@st.fragment
def queue_map(frame: pd.DataFrame, *, basemap: str) -> None:
    prof = da.profile()
    m = render.base_map(prof, basemap, lang=lang(), view_counter=False, tianditu=tianditu_key())
    shown = frame.head(MAP_LIMIT)
    if len(frame) > MAP_LIMIT:
        st.caption(
            tr(
                f"地图显示前 {MAP_LIMIT:,} 条（超时和最新优先），列表显示全部 {len(frame):,} 条。",
                f"The map shows the first {MAP_LIMIT:,} (overdue and newest first); "
                f"the list has all {len(frame):,}.",
            )
        )
    add_state_points(m, shown, lang=lang())
    if len(shown):
        render.fit_to(m, shown, pad_m=200)
    render.finish(m)
    st_folium(m, key=keys.QUEUE_MAP, height=420, use_container_width=True, returned_objects=[])


def detail(row: pd.Series, reports: pd.DataFrame, user, rules) -> None:
    """One report: description, photos, steps, and the steps the user may take."""
    store = fd.field_store()
    cat = rules.category(row["category"]).label(lang())
    st.subheader(
        f"{safe(row['report_id'])} · {safe(cat)} · {safe(states.state_label(row['state'], lang()))}"
    )
    if row["overdue"]:
        st.warning(
            tr(
                f"已超时 {row['hours_overdue']:,.1f} 小时",
                f"Overdue by {row['hours_overdue']:,.1f} h",
            )
        )
    st.markdown(
        f"**{tr('位置', 'Where')}**: {safe(row['street'])} · {safe(row['community'])} · "
        f"{safe(row['grid_code'] or '')} · **{tr('上报人', 'Reporter')}**: {safe(row['reporter'])}"
    )
    st.markdown(safe(row["description"], multiline=True) or tr("（无描述）", "(no description)"))
    photos = store.photos(row["report_id"])
    if len(photos):
        st.image([bytes(b) for b in photos["data"]], width=160)
    steps = store.steps(row["report_id"])
    st.dataframe(
        pd.DataFrame(
            {
                tr("时间", "When"): steps["at"]
                .dt.tz_convert("Asia/Shanghai")
                .dt.strftime("%m-%d %H:%M"),
                tr("步骤", "Step"): [states.state_label(s, lang()) for s in steps["to_state"]],
                tr("操作人", "By"): steps["actor"],
                tr("说明", "Note"): steps["note"],
                tr("照片", "Photo"): steps["photo_id"].notna().map({True: "📷", False: ""}),
            }
        ),
        hide_index=True,
        use_container_width=True,
    )
    moves = states.transitions_from(row["state"], user.role)
    if not moves:
        return
    dupes = possible_duplicates(reports[reports["report_id"] == row["report_id"]], reports, rules)
    if len(dupes):
        st.info(
            tr("可能重复：", "Possible duplicates: ")
            + "、".join(
                f"{safe(c)}（{d:,.0f} m）"
                for c, d in zip(dupes["candidate_id"], dupes["distance_m"], strict=True)
            )
        )
    rid = row["report_id"]
    with st.form(f"field_step_{rid}_{row['state']}", clear_on_submit=True):
        target = st.radio(
            tr("下一步", "Next step"),
            [t.target for t in moves],
            format_func=lambda t: next(
                tr(m.action_zh, m.action_en) for m in moves if m.target == t
            ),
            horizontal=True,
        )
        note = st.text_input(tr("说明", "Note"), key=f"{keys.STEP_NOTE}_{rid}")
        assignee = st.text_input(tr("处置单位（派遣时）", "Handled by (when dispatching)"))
        duplicate_of = selectbox(
            st,
            tr("重复于（标为重复时）", "Duplicate of (when marking duplicate)"),
            dupes["candidate_id"].tolist(),
            index=None,
            placeholder=tr("选择事件编号", "Pick a report"),
        )
        photo = st.file_uploader(
            tr("照片（可选）", "Photo (optional)"), type=["jpg", "jpeg", "png", "webp"]
        )
        sent = st.form_submit_button(tr("确认", "Confirm"), type="primary")
    if sent:
        try:
            cleaned = clean_photo(photo.getvalue(), rules, name=photo.name) if photo else None
            store.step(
                rid,
                target,
                actor=user,
                now=fd.now(),
                note=note,
                photo=cleaned,
                assignee=assignee or None if target == "dispatched" else None,
                duplicate_of=duplicate_of if target == "duplicate" else None,
            )
        except (PhotoError, FieldStoreError, states.TransitionError) as err:
            st.error(safe(in_lang(err.args[0], lang())))
            return
        st.rerun()


def main() -> None:
    st.title(tr("事件处置", "Dispatch"))
    if open_map_store(tr("还没有数据。", "No data yet.")) is None:
        return
    basemap = basemap_select(st.sidebar)
    user = actor.current_user()
    if user.role not in states.STAFF:
        st.info(
            tr(
                "事件处置由街道/社区工作人员和规划人员办理；网格员请在“我的网格”查看自己上报的事件。",
                "Dispatch is for street/community staff and planners; grid workers see their "
                "reports on My grid.",
            )
        )
        return
    rules = fd.rules()
    reports = actor.scoped_reports(user, fd.reports())
    if reports.empty:
        st.info(tr("您的范围内还没有上报的事件。", "No reports in your scope yet."))
        return
    queue = queue_order(filters(reports, rules), rules, fd.now())
    c1, c2, c3 = st.columns(3)
    c1.metric(tr("事件", "Reports"), f"{len(queue):,}")
    c2.metric(tr("超时", "Overdue"), f"{int(queue['overdue'].sum()):,}")
    c3.metric(tr("待受理", "New"), f"{int((queue['state'] == 'new').sum()):,}")
    list_tab, map_tab = st.tabs([tr("列表", "List"), tr("地图", "Map")])
    with list_tab:
        st.dataframe(list_table(queue, rules), hide_index=True, use_container_width=True)
    with map_tab:
        queue_map(queue, basemap=basemap)
    pickable = queue.head(PICK_LIMIT)
    # labels that do not change with a step, so the pick survives the report's next state
    labels = {
        rid: f"{rid} · {rules.category(c).label(lang())} · {street}"
        for rid, c, street in zip(
            pickable["report_id"], pickable["category"], pickable["street"], strict=True
        )
    }
    if st.session_state.get(keys.QUEUE_PICK) not in labels:
        st.session_state[keys.QUEUE_PICK] = None
    rid = selectbox(
        st,
        tr("办理事件", "Act on a report"),
        list(labels),
        index=None,
        format_func=labels.get,
        placeholder=tr("选择一条事件（超时优先）", "Pick a report (overdue first)"),
        key=keys.QUEUE_PICK,
    )
    if rid:
        detail(queue[queue["report_id"] == rid].iloc[0], reports, user, rules)


main()
