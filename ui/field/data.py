"""Cached reads of the field tables for pages (keyed by the store and its field version)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from field.settings import FieldRules, field_rules
from field.store import GeoPackageFieldStore
from ui import data_access as da
from ui.i18n import tr


def field_store() -> GeoPackageFieldStore:
    """The field tables of the active store; stops the page on a store without them."""
    store = da.current_store()
    if not isinstance(getattr(store, "path", None), Path):
        st.info(
            tr(
                "网格事件目前只保存在 GeoPackage 数据库中（PostGIS 尚未支持）。",
                "Field reports are kept in GeoPackage stores only for now (not yet in PostGIS).",
            )
        )
        st.stop()
    return GeoPackageFieldStore(store.path)


def rules() -> FieldRules:
    return field_rules(da.profile())


@st.cache_resource(show_spinner=False, max_entries=8)
def _reports(path: str, version: str) -> gpd.GeoDataFrame:
    return GeoPackageFieldStore(path).reports()


@st.cache_resource(show_spinner=False, max_entries=8)
def _visits(path: str, version: str) -> pd.DataFrame:
    return GeoPackageFieldStore(path).visits()


def reports() -> gpd.GeoDataFrame:
    """Every report of the store (cached; filter to the user's scope before showing)."""
    store = field_store()
    return _reports(str(store.path), store.version())


def visits() -> pd.DataFrame:
    store = field_store()
    return _visits(str(store.path), store.version())


def now() -> pd.Timestamp:
    """The clock the pages judge overdue by: the real time, in UTC."""
    return pd.Timestamp.now(tz="UTC")
