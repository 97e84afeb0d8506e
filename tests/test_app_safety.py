"""The app never shows tracebacks and listens on this machine only by default."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.serve import with_defaults

ROOT = Path(__file__).resolve().parent.parent


def _failing_page() -> None:
    import streamlit as st

    from ui.errors import run_page

    def page() -> None:
        st.write("before")
        raise TypeError("cannot safely cast non-equivalent float64 to int64 in /srv/app/x.py")

    run_page(page)


def test_unexpected_error_is_logged_not_shown(caplog):
    at = AppTest.from_function(_failing_page)
    with caplog.at_level(logging.ERROR, logger="gridmap.ui"):
        at.run()
    assert not at.exception  # no exception element with a traceback
    assert len(at.error) == 1
    shown = at.error[0].value
    assert "/srv/app" not in shown and "float64" not in shown and "Traceback" not in shown
    assert "出现了意外错误" in shown
    code = shown.split("事件编号 ")[1].split(" ")[0]
    record = next(r for r in caplog.records if code in r.getMessage())
    assert record.exc_info and "float64" in str(record.exc_info[1])


def test_unexpected_error_in_english(caplog):
    at = AppTest.from_function(_failing_page)
    at.session_state["lang"] = "en"
    at.run()
    assert "Something unexpected went wrong" in at.error[0].value


def test_config_hides_tracebacks_and_binds_to_loopback():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["enableXsrfProtection"] is True


def test_launcher_defaults_and_overrides():
    assert with_defaults([]) == [
        "--server.address",
        "127.0.0.1",
        "--client.showErrorDetails",
        "none",
        "--server.enableXsrfProtection",
        "true",
        "--runner.postScriptGC",
        "false",
    ]
    args = with_defaults(["--server.address", "0.0.0.0", "--server.port=8502"])
    assert args.count("--server.address") == 1 and "0.0.0.0" in args
    assert with_defaults(["--server.address=0.0.0.0"]).count("127.0.0.1") == 0
