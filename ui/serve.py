"""Start the Streamlit app with the heavy libraries already imported.

Streamlit imports a page's libraries on the first visit, which adds 2-3 s to the first map a
user sees after a restart. This launcher imports them (and copies the offline map assets)
before the server starts; Streamlit runs the app in the same process, so the first visit
finds them loaded.

The app is served as an ``st.App`` (Streamlit's Starlette server, as ``streamlit run`` does
for a script holding one) with the app's own HTTP routes beside it: the explorer's zoomed-in
grids (:mod:`ui.grid_api`). Options are those of ``streamlit run``.

    python -m ui.serve [streamlit options, e.g. --server.port 8502]
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"


def warm_up() -> None:
    """Import what the pages use and install the map assets."""
    import geo.analysis  # noqa: F401
    import maps.display  # noqa: F401
    import maps.render  # noqa: F401
    from maps.assets import install_assets

    # streamlit_folium is not imported here: a component declared before the server's
    # runtime exists is not served to the browser.

    install_assets()
    _warm_store()
    _skip_repl_check()
    freeze_heap()


def _skip_repl_check() -> None:
    """Skip Streamlit's one-time "is this a REPL?" check (``inspect.stack()`` with source
    lookups of every frame: 1-2 s of the first visit's script run after a restart). Under
    ``streamlit run`` it can only answer no."""
    import streamlit.delta_generator as dg

    dg._use_warning_has_been_displayed = True


def freeze_heap() -> None:
    """Move everything alive now (imported libraries, the warmed layers) out of the garbage
    collector's reach: later collections only walk objects made after the warm-up."""
    import gc

    gc.collect()
    gc.freeze()


def _warm_store() -> None:
    """Read and prepare the active store's map layers into the shared resource cache."""
    import logging

    from data.store import open_store

    if not open_store().exists():
        return  # the app generates the demo store on the first visit, with progress
    # reading outside a script run makes Streamlit warn about a missing run context: expected
    quiet = (
        "streamlit.runtime.caching.cache_data_api",
        "streamlit.runtime.scriptrunner_utils.script_run_context",
    )
    for name in quiet:
        logging.getLogger(name).setLevel(logging.ERROR)
    from auth.model import CITY_KEY
    from layers import LAYERS
    from ui import data_access as da

    # the whole-city view of planners and admins; other scopes are cut from it on first use;
    # line layers (roads, off at first) are prepared when a user first switches them on
    for layer in da.MAP_LAYERS:
        if set(LAYERS[layer].geometry_types) <= {"LineString", "MultiLineString"}:
            continue
        da.display_layer(layer, key=CITY_KEY)
        da.admin_tags(layer, key=CITY_KEY)
    present = set(da.store_layers())
    grids = da.display_layer("grids", key=CITY_KEY) if "grids" in present else ()
    if "communities" in present and len(grids) > da.profile().display.max_grids_drawn:
        da.grid_areas(key=CITY_KEY)  # the community of each grid, for the zoomed-in grids


# Safe defaults wherever the server is started from (.streamlit/config.toml is only read from
# the working folder): listen on this machine only, never show tracebacks to users. A user's own
# option on the command line wins, e.g. ``--server.address 0.0.0.0``. XSRF protection is
# Streamlit's default; it is named so that no config file can turn it off unnoticed.
DEFAULTS = {
    "--server.address": "127.0.0.1",
    "--client.showErrorDetails": "none",
    "--server.enableXsrfProtection": "true",
    # Streamlit runs a full garbage collection after every script run by default: with the
    # city's layers and rendered maps in memory that held the interpreter lock for most of the
    # server's time while eight people opened the explorer at once (bench/bench_concurrency.py),
    # stalling every other session's websocket and file requests. Python's own generational
    # collector still runs; the warm-up's objects are frozen out of it (:func:`freeze_heap`).
    "--runner.postScriptGC": "false",
}


def with_defaults(args: list[str]) -> list[str]:
    """`args` plus each :data:`DEFAULTS` option the user did not give."""
    given = {a.split("=", 1)[0] for a in args if a.startswith("--")}
    extra = [part for key, value in DEFAULTS.items() if key not in given for part in (key, value)]
    return [*extra, *args]


COOKIE_SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"


def cookie_secret_file() -> Path:
    """Where the cookie secret is kept when the environment gives none (outside the repo)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "gridmap" / "cookie_secret"


def ensure_cookie_secret() -> None:
    """Give Streamlit a cookie secret: ``$STREAMLIT_SERVER_COOKIE_SECRET``, else a file in
    the user's config folder (made, mode 0600, on first start). Replicas share it by sharing
    the variable or the file."""
    if os.environ.get(COOKIE_SECRET_ENV):
        return
    path = cookie_secret_file()
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    os.environ[COOKIE_SECRET_ENV] = path.read_text().strip()


def make_app():
    """The app as an ``st.App``: Streamlit's own routes and the app's extra HTTP routes
    (:mod:`ui.grid_api`)."""
    import streamlit as st

    from ui.grid_api import routes

    return st.App(APP, routes=routes())


def main(argv: list[str] | None = None) -> None:
    ensure_cookie_secret()
    warm_up()
    from streamlit import config
    from streamlit.web import bootstrap, cli
    from streamlit.web.server.starlette.starlette_server import UvicornRunner

    args = with_defaults(list(sys.argv[1:] if argv is None else argv))
    # the options of `streamlit run` (parsed by its own command line), then what it does for a
    # script holding an st.App: config from the app's folder, and uvicorn serving it
    ctx = cli.main_run.make_context("run", [str(APP), *args])
    options = {k: v for k, v in ctx.params.items() if k not in ("target", "args")}
    config._main_script_path = str(APP)
    bootstrap.load_config_options(flag_options=options)
    bootstrap._prepare_asgi_app_run_context(str(APP), list(ctx.params["args"] or ()), options)
    UvicornRunner(make_app()).run()


if __name__ == "__main__":
    main()
