"""Controls shared by the map pages: opening the store, basemap select, demo-data label."""

from __future__ import annotations

import streamlit as st

from data.store import Store, StoreError
from maps import render
from maps.assets import install_assets
from ui import data_access as da
from ui import state
from ui.i18n import lang, selectbox, tr


@st.cache_resource(show_spinner=False)
def _install_assets_once() -> None:
    """Copy the map's JS/CSS into static/vendor once per server process, not on every rerun."""
    install_assets()


def open_map_store(no_data: str) -> Store | None:
    """Start a map page: install the map assets and return the current store.

    When there is no store yet, show `no_data` and return None; otherwise label demo data.
    """
    _install_assets_once()
    try:
        store = da.current_store()
        if not store.exists():
            raise StoreError("missing")
    except StoreError:
        st.info(no_data)
        return None
    demo_note()
    return store


def demo_note() -> None:
    """Label the built-in demo store wherever it is shown."""
    if da.is_synthetic():
        st.caption("合成示例数据 / synthetic demo data — " + tr("非真实数据", "not real data"))


def basemap_select(container=None) -> str:
    """Basemap choice (one key shared by every map page)."""
    container = container or st.sidebar
    keys = list(render.BASEMAPS)
    if st.session_state.get(state.BASEMAP) not in keys:
        st.session_state[state.BASEMAP] = "none"
    choice = selectbox(
        container,
        tr("底图", "Basemap"),
        keys,
        key=state.BASEMAP,
        format_func=lambda k: render.BASEMAPS[k].label(lang()),
        help=tr(
            "瓦片只是装饰：无底图时图层照常显示。高德底图为 GCJ-02，叠加图层会随之偏移。",
            "Tiles are decoration: layers show without them. Gaode tiles are GCJ-02; overlays are shifted to match.",
        ),
    )
    if render.BASEMAPS[choice].needs_key and not render.tianditu_key():
        container.text_input(
            tr("天地图密钥（tk）", "Tianditu key (tk)"),
            key=state.TIANDITU_KEY,
            type="password",
            help=tr(
                "也可以用环境变量 TIANDITU_KEY 设置；只保存在本次会话中。",
                "Or set the environment variable TIANDITU_KEY; kept for this session only.",
            ),
        )
        if not tianditu_key():
            container.warning(
                tr("未设置天地图密钥，改用无底图。", "No Tianditu key: showing no tiles.")
            )
    return choice


def tianditu_key() -> str | None:
    """The Tianditu key: ``$TIANDITU_KEY`` or the one typed in this session."""
    return render.tianditu_key() or (st.session_state.get(state.TIANDITU_KEY) or "").strip() or None
