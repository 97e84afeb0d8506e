"""Edits of single grids by the people responsible for them, checked and audited.

Grid workers update the households, residents and worker contact of their own grids; street
and community staff (and planners) may also rename grids in their scope. The permission and
the scope are checked here, on the server side of every caller (page or command), and the
change is written together with its audit row (before and after values).
"""

from __future__ import annotations

import math

import pandas as pd

from auth.model import PermissionDenied, User, can, grid_in_scope, require
from auth.storage import AuditEntry
from layers import LAYERS

PEOPLE_FIELDS = ("households", "residents", "worker_name", "worker_phone")
"""Fields a grid worker may update on their own grids (``edit_grid_people``)."""
FACT_FIELDS = ("grid_name", *PEOPLE_FIELDS)
"""Fields staff and planners may update on grids in their scope (``edit_grid_facts``)."""


class EditError(ValueError):
    """An edit names an unknown grid or holds a value the grids schema refuses."""


def editable_fields(user: User | None) -> tuple[str, ...]:
    """The grid fields `user` may change (empty for viewers)."""
    if can(user, "edit_grid_facts"):
        return FACT_FIELDS
    if can(user, "edit_grid_people"):
        return PEOPLE_FIELDS
    return ()


def _plain(value: object) -> object:
    """A value for the audit detail (JSON): None for missing, int for whole numbers."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    return value


def edit_grid(store, code: str, changes: dict[str, object], *, user: User) -> AuditEntry | None:
    """Apply `changes` to the grid `code` as `user`; returns the audit row (None: no change).

    Raises
    ------
    PermissionDenied
        The role may not edit these fields, or the grid is outside the user's scope.
    EditError
        No such grid, or a value the grids schema refuses (the store is unchanged).
    """
    require(user, "edit_grid_people")
    allowed = editable_fields(user)
    refused = sorted(set(changes) - set(allowed))
    if refused:
        raise PermissionDenied(f"{user.name} ({user.role}) may not change {', '.join(refused)}")
    with store.lock():
        grids = store.read("grids")
        if not grid_in_scope(code, user.scope, grids):
            raise PermissionDenied(f"grid {code} is not in the scope of {user.name}")
        index = grids.index[grids["grid_code"].astype(str) == str(code)][0]
        before = {f: _plain(grids.at[index, f]) for f in changes}
        edited = grids.copy()
        for f, value in changes.items():
            edited.at[index, f] = None if value == "" else value
        try:
            row = LAYERS["grids"].validate(edited.loc[[index]], source=f"grid {code}")
        except ValueError as exc:
            raise EditError(str(exc)) from None
        for f in changes:
            edited.at[index, f] = row.iloc[0][f]
        after = {f: _plain(edited.at[index, f]) for f in changes}
        if before == after:
            return None
        changed = {f: (before[f], after[f]) for f in changes if before[f] != after[f]}
        entry = AuditEntry.by(
            user,
            "edit",
            layer="grids",
            rows_changed=1,
            detail={
                "grid_code": str(code),
                "before": {f: v[0] for f, v in changed.items()},
                "after": {f: v[1] for f, v in changed.items()},
            },
        )
        store.write({"grids": edited}, audit=[entry])
    return entry
