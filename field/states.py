"""Report states, the allowed transitions and which roles may make each (as data).

The flow follows GB/T 30428.2-2013's case cycle (立案-派遣-处置-核查-结案)::

    new -> accepted -> dispatched -> handled -> checked -> closed
    new / accepted -> rejected | duplicate
    handled -> dispatched      (the check failed: sent back to the handler)

Roles are the sign-in roles (admin, planner, staff, worker, viewer). Grid workers create
reports and may mark a dispatched report handled (they often handle it themselves); staff
and planners run the rest; admins may do everything; viewers nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from layers.messages import msg

STATES = (
    "new",
    "accepted",
    "dispatched",
    "handled",
    "checked",
    "closed",
    "rejected",
    "duplicate",
)
STATE_LABELS = {
    "new": ("待受理", "New"),
    "accepted": ("已受理", "Accepted"),
    "dispatched": ("已派遣", "Dispatched"),
    "handled": ("已处置", "Handled"),
    "checked": ("已核查", "Checked"),
    "closed": ("已结案", "Closed"),
    "rejected": ("不予受理", "Rejected"),
    "duplicate": ("重复上报", "Duplicate"),
}
STATE_COLORS = {
    "new": "#d62728",
    "accepted": "#ff7f0e",
    "dispatched": "#bcbd22",
    "handled": "#17becf",
    "checked": "#1f77b4",
    "closed": "#2ca02c",
    "rejected": "#7f7f7f",
    "duplicate": "#c7c7c7",
}
OPEN_STATES = ("new", "accepted", "dispatched")
"""States in which the problem is not yet handled (the handling time limit runs)."""
DONE_STATES = ("handled", "checked", "closed")
"""States in which the problem has been handled."""
DROPPED_STATES = ("rejected", "duplicate")
"""States that end a report without handling it; not counted in response-time KPIs."""

STAFF = frozenset({"admin", "planner", "staff"})


@dataclass(frozen=True)
class Transition:
    """One allowed step: from a state to another, by one of `roles`."""

    source: str
    target: str
    roles: frozenset[str]
    action_zh: str
    action_en: str


TRANSITIONS: tuple[Transition, ...] = (
    Transition("new", "accepted", STAFF, "受理", "Accept"),
    Transition("new", "rejected", STAFF, "不予受理", "Reject"),
    Transition("new", "duplicate", STAFF, "标为重复", "Mark duplicate"),
    Transition("accepted", "dispatched", STAFF, "派遣", "Dispatch"),
    Transition("accepted", "rejected", STAFF, "不予受理", "Reject"),
    Transition("accepted", "duplicate", STAFF, "标为重复", "Mark duplicate"),
    Transition("dispatched", "handled", STAFF | {"worker"}, "处置完成", "Mark handled"),
    Transition("handled", "checked", STAFF, "核查通过", "Check passed"),
    Transition("handled", "dispatched", STAFF, "核查不通过，退回", "Check failed, send back"),
    Transition("checked", "closed", STAFF, "结案", "Close"),
)
CREATE_ROLES = frozenset({"admin", "planner", "staff", "worker"})
"""Roles that may file a report (state ``new``)."""


class TransitionError(ValueError):
    """A step that the flow or the user's role does not allow."""


def transitions_from(state: str, role: str | None = None) -> list[Transition]:
    """Steps allowed from `state` (for `role`, if given), in flow order."""
    if state not in STATES:
        raise TransitionError(f"unknown report state {state!r}; expected one of {STATES}")
    return [t for t in TRANSITIONS if t.source == state and (role is None or role in t.roles)]


def check_transition(state: str, target: str, role: str) -> Transition:
    """The transition `state` -> `target` if `role` may make it, else :class:`TransitionError`."""
    if target not in STATES:
        raise TransitionError(f"unknown report state {target!r}; expected one of {STATES}")
    for t in transitions_from(state):
        if t.target == target:
            if role not in t.roles:
                raise TransitionError(
                    msg(
                        f"当前角色不能把事件从“{STATE_LABELS[state][0]}”改为"
                        f"“{STATE_LABELS[target][0]}”",
                        f"role {role!r} may not move a report from {state!r} to {target!r} "
                        f"(allowed: {', '.join(sorted(t.roles))})",
                    )
                )
            return t
    targets = [t.target for t in transitions_from(state)]
    allowed_zh = "、".join(STATE_LABELS[t][0] for t in targets) or "无"
    allowed = ", ".join(targets) or "none"
    raise TransitionError(
        msg(
            f"事件不能从“{STATE_LABELS[state][0]}”改为“{STATE_LABELS[target][0]}”"
            f"（可改为：{allowed_zh}）；可能已被他人处理，请刷新",
            f"a report cannot go from {state!r} to {target!r} (allowed from {state!r}: {allowed})",
        )
    )


def state_label(state: str, lang: str = "zh") -> str:
    zh, en = STATE_LABELS[state]
    return zh if lang == "zh" else en
