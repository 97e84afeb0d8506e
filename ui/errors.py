"""Unexpected errors: logged on the server with their traceback, shown to users as a message.

Streamlit would show the exception and its traceback (server paths included) in the page;
``client.showErrorDetails = "none"`` in ``.streamlit/config.toml`` turns that off, and
:func:`run_page` replaces it with a short message in the user's language that carries an
incident code, the same code the server log shows next to the traceback.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

import streamlit as st

from ui.i18n import tr

log = logging.getLogger("gridmap.ui")


def run_page(page: Callable[[], object]) -> None:
    """Run `page`; on an unexpected exception log it and show a message instead."""
    try:
        page()
    except Exception as exc:  # Streamlit's rerun/stop are BaseExceptions and pass through
        show_unexpected(exc)


def show_unexpected(exc: BaseException) -> str:
    """Log `exc` with a new incident code and tell the user; return the code."""
    code = uuid.uuid4().hex[:8]
    log.error("unexpected error, incident %s", code, exc_info=exc)
    st.error(
        tr(
            f"出现了意外错误，本页未能完成。数据库未被改动。请刷新页面重试；如果问题重复出现，"
            f"请把事件编号 {code} 告诉管理员（服务器日志中有详细信息）。",
            f"Something unexpected went wrong and this page could not finish. The store was "
            f"not changed. Reload the page to try again; if it happens again, give the "
            f"administrator incident code {code} (the server log has the details).",
        ),
        icon=":material/error:",
    )
    return code
