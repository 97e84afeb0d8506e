"""Cached reads of the field tables for pages (keyed by the store and its field version)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from field.settings import FieldRules, field_rules
from field.store import field_store as open_field_store
from ui import data_access as da


def field_store() -> Any:
    """The field tables of the active store (GeoPackage or PostGIS, as the signed-in user)."""
    return open_field_store(da.current_store())


def rules() -> FieldRules:
    return field_rules(da.profile())


@st.cache_resource(show_spinner=False, max_entries=8)
def _reports(path: str, version: str, _store: Any) -> gpd.GeoDataFrame:
    return _store.reports()


@st.cache_resource(show_spinner=False, max_entries=8)
def _visits(path: str, version: str, _store: Any) -> pd.DataFrame:
    return _store.visits()


def reports() -> gpd.GeoDataFrame:
    """Every report of the store (cached; filter to the user's scope before showing)."""
    store = field_store()
    return _reports(str(store.path), store.version(), store)


def visits() -> pd.DataFrame:
    store = field_store()
    return _visits(str(store.path), store.version(), store)


def now() -> pd.Timestamp:
    """The clock the pages judge overdue by: the real time, in UTC."""
    return pd.Timestamp.now(tz="UTC")
