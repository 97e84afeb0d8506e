"""The grids route: the explorer's zoomed-in grids, fetched by the map without a page re-run.

``GET /gridmap/api/grids?v=<data version>&c=<community labels>&color=&lang=&offsets=`` answers
the grids of the asked communities as the map's grid layer draws them (JSON of
:func:`maps.render.grid_payload`; the browser side is ``gridmap.lazyGrids`` in
maps/static/gridmap.js). It is served beside the app by :mod:`ui.serve` (an ``st.App`` route).

Only for a signed-in user, checked exactly as a page run checks: the ``gridmap_session`` cookie
that :mod:`ui.auth` writes is validated against the store's sessions
(:func:`auth.sessions.session_user`), the role must be allowed to see the map (``view``), and
the grids are cut to the user's scope and masked for their role by :mod:`ui.data_access`, the
code the pages use (results cached per data version and scope, shared with the pages). Signed
out: 401; not allowed: 403; a version other than the store's: 409 (the page is stale); bad
parameters: 400; none of them carries data. Answers are ``Cache-Control: private, no-cache``.
"""

from __future__ import annotations

import json
import logging
import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from auth.model import User, can
from auth.sessions import COOKIE, session_user
from data.store import is_postgres_url, open_store
from geo.settings import store_path
from maps.render import BASEMAPS, COLOR_BY

PATH = "/gridmap/api/grids"
"""Where the route is served (nginx in scripts/serve_cluster.sh passes every path on)."""

MAX_AREAS = 200
"""Most communities one request may ask for (the map asks in batches of 40)."""

_LABEL = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_OFFSETS = frozenset(b.offsets for b in BASEMAPS.values())
_LOG = logging.getLogger(__name__)


class BadRequest(ValueError):
    """A parameter of the request is missing or not valid."""


def _json(status: int, body: dict) -> Response:
    return _response(status, json.dumps(body).encode())


def _response(status: int, body: bytes) -> Response:
    return Response(
        body,
        status_code=status,
        media_type="application/json",
        headers={
            "Cache-Control": "private, no-cache",
            "Vary": "Cookie",
            "X-Content-Type-Options": "nosniff",
        },
    )


def parse_query(params) -> dict:
    """The request's parameters, checked: version, community labels, colour, language, offsets.

    Raises :class:`BadRequest` naming the parameter.
    """
    version = params.get("v", "")
    if not version or len(version) > 200:
        raise BadRequest("v: the data version is missing")
    labels = [x for x in params.get("c", "").split(",") if x]
    if not labels:
        raise BadRequest("c: no community asked for")
    if len(labels) > MAX_AREAS:
        raise BadRequest(f"c: at most {MAX_AREAS} communities per request")
    bad = [x for x in labels if not _LABEL.match(x)]
    if bad:
        raise BadRequest("c: not a community label")
    color = params.get("color", "households")
    if color not in COLOR_BY:
        raise BadRequest(f"color: one of {', '.join(COLOR_BY)}")
    lang = params.get("lang", "zh")
    if lang not in ("zh", "en"):
        raise BadRequest("lang: zh or en")
    offsets = params.get("offsets", "wgs84")
    if offsets not in _OFFSETS:
        raise BadRequest(f"offsets: one of {', '.join(sorted(_OFFSETS))}")
    return {
        "version": version,
        "areas": tuple(labels),
        "color_by": color,
        "lang": lang,
        "offsets": offsets,
    }


def request_user(request: Request) -> User | None:
    """The enabled user of the request's unexpired session cookie, else None."""
    token = request.cookies.get(COOKIE)
    store = open_store()
    if not token or not store.exists():
        return None
    return session_user(store.accounts(), token)


def grids(request: Request) -> Response:
    """``GET`` :data:`PATH`: see the module's documentation."""
    user = request_user(request)
    if user is None:
        return _json(401, {"error": "sign in first"})
    if not can(user, "view"):
        return _json(403, {"error": "not allowed"})
    try:
        asked = parse_query(request.query_params)
    except BadRequest as exc:
        return _json(400, {"error": str(exc)})
    postgres = is_postgres_url(str(store_path()))
    if postgres:  # row-level security as the user, as a page run does
        from data.postgis import DbIdentity, set_session_identity

        set_session_identity(DbIdentity.of(user))
    try:
        from ui import data_access as da

        current = open_store().version()
        if asked["version"] != current:
            return _json(409, {"error": "the data changed", "v": current})
        body = da.grid_batch(
            asked["areas"],
            color_by=asked["color_by"],
            lang=asked["lang"],
            offsets=asked["offsets"],
            key=user.cache_key,
        )
    except Exception:
        _LOG.exception("grids route failed")
        return _json(500, {"error": "server error"})
    finally:
        if postgres:
            set_session_identity(None)
    return _response(200, body)


def routes() -> list[Route]:
    """The routes :mod:`ui.serve` adds beside the app (GET only: other methods get 405)."""
    return [Route(PATH, grids, methods=["GET"])]
