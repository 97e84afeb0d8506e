"""Sign-in, roles and scopes in the app (AppTest) and the command line, on the tiny store.

The tiny store (tests/_map_fixtures.py): grids G01-G06; G01 and G02 in 社区一/街道甲, the rest
in 街道乙. A grid worker of G01 sees G01 only.
"""

from __future__ import annotations

import io
import json
import sys

import pytest
from streamlit.testing.v1 import AppTest

from auth.model import Scope, User
from auth.passwords import hash_password
from data.edits import EditError, edit_grid
from data.store import GeoPackageStore
from tests._auth import make_user, sign_in, signed_in_app
from tests._map_fixtures import ROOT_APP, write_tiny_store

TIMEOUT = 120


@pytest.fixture
def tiny(tmp_path, monkeypatch) -> GeoPackageStore:
    path = write_tiny_store(tmp_path / "tiny.gpkg")
    monkeypatch.setenv("GRIDMAP_STORE", str(path))
    return GeoPackageStore(path)


def _as(role: str, scope: str = "city", page: str | None = None, **query) -> AppTest:
    at = signed_in_app(str(ROOT_APP), role=role, scope=scope, default_timeout=TIMEOUT, query=query)
    for key, value in query.items():
        at.query_params[key] = value
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def _text(at: AppTest) -> str:
    parts = (
        [m.value for m in at.markdown]
        + [e.value for e in at.error]
        + [s.value for s in at.subheader]
    )
    return " ".join(str(p) for p in parts)


def test_signed_out_only_the_login_page_and_no_data(tiny):
    at = AppTest.from_file(str(ROOT_APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["登录"]
    assert not at.dataframe and not at.metric
    # no other page exists for the session
    with pytest.raises(ValueError, match=r"Known pages: \['登录'\]"):
        at.switch_page("ui/pages/explorer.py")
    assert "张三" not in _text(at)


def test_login_page_signs_in_and_lists_the_role_s_pages(tiny):
    at = sign_in(
        AppTest.from_file(str(ROOT_APP), default_timeout=TIMEOUT), *make_user(tiny, "viewer")
    )
    assert [t.value for t in at.title] == ["地图浏览"]
    assert at.session_state["auth_user"].role == "viewer"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("ui/pages/data.py")


def test_data_page_refuses_without_permission(tiny):
    """The page's own guard, should it ever be reached outside the navigation."""
    at = AppTest.from_file(
        str(ROOT_APP.parent / "ui" / "pages" / "data.py"), default_timeout=TIMEOUT
    ).run()
    assert any("没有权限" in e.value for e in at.error)
    assert not at.button and not at.title


def test_wrong_password_and_throttling(tiny):
    name, password = make_user(tiny, "planner")
    at = AppTest.from_file(str(ROOT_APP), default_timeout=TIMEOUT).run()
    for _ in range(5):  # the profile's max_failures_per_user
        at.text_input(key="login_user").input(name)
        at.text_input(key="login_password").input("wrong password")
        at.button(key="login_submit").click().run()
        assert any("用户名或密码错误" in e.value for e in at.error)
    at.text_input(key="login_user").input(name)
    at.text_input(key="login_password").input(password)
    at.button(key="login_submit").click().run()
    assert any("登录失败次数过多" in e.value for e in at.error)
    assert at.session_state["auth_user"] is None


def test_sign_out_ends_the_session_on_the_server(tiny):
    at = _as("planner")
    token = at.session_state["auth_token"]
    at.button(key="auth_sign_out").click().run()
    assert [t.value for t in at.title] == ["登录"]
    from auth.sessions import session_user

    assert session_user(tiny.accounts(), token) is None


def test_worker_sees_own_grid_only(tiny):
    at = _as("worker", "grids:G01", page="ui/pages/my_grid.py")
    assert at.session_state["my_grid_pick"] == "G01"  # the one grid is opened
    assert "一号网格" in _text(at)
    assert at.selectbox(key="my_grid_pick").options == ["G01 · 一号网格 · 张三"]


def test_worker_refused_another_grid_from_the_url(tiny):
    at = _as("worker", "grids:G01", page="ui/pages/my_grid.py", grid="G03")
    text = _text(at)
    assert "不在您的负责范围内" in text
    assert "三号网格" not in text and "李四" not in text


def test_worker_has_no_data_or_audit_page(tiny):
    at = _as("worker", "grids:G01")
    for page in ("ui/pages/data.py", "ui/pages/audit.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


def test_worker_explorer_counts_only_own_grid(tiny):
    at = _as("worker", "grids:G01", page="ui/pages/explorer.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics.get("网格") == "1", metrics


def test_viewer_sees_no_worker_names(tiny):
    at = _as("viewer", page="ui/pages/my_grid.py", grid="G01")
    text = _text(at)
    assert "一号网格" in text and "张三" not in text and "已隐藏" in text


def test_staff_scope_street(tiny):
    at = _as("staff", "street:街道甲", page="ui/pages/my_grid.py")
    options = at.selectbox(key="my_grid_pick").options
    assert [o.split(" · ")[0] for o in options] == ["G01", "G02"]


def test_worker_edits_own_grid_and_the_audit_records_it(tiny):
    at = _as("worker", "grids:G01", page="ui/pages/my_grid.py")
    at.number_input(key="my_grid_edit_households").set_value(333)
    at.text_input(key="my_grid_edit_phone").set_value("13800000000")
    at.button(key="my_grid_edit_save").click().run()
    assert not at.exception, at.exception
    grids = tiny.read("grids").set_index("grid_code")
    assert grids.at["G01", "households"] == 333
    (row,) = tiny.accounts().read_audit().itertuples()
    assert row.action == "edit" and row.layer == "grids" and row.rows_changed == 1
    assert row.user_name.startswith("test_worker")
    assert row.detail["before"] == {"households": 320, "worker_phone": "13812341234"}
    assert row.detail["after"] == {"households": 333, "worker_phone": "13800000000"}


def test_edit_rules(tiny):
    worker = User("w1", "W", "worker", Scope.parse("grids:G01"))
    with pytest.raises(PermissionError, match="not in the scope"):
        edit_grid(tiny, "G03", {"households": 1}, user=worker)
    with pytest.raises(PermissionError, match="may not change grid_name"):
        edit_grid(tiny, "G01", {"grid_name": "x"}, user=worker)
    with pytest.raises(PermissionError):
        edit_grid(tiny, "G01", {"households": 1}, user=User("v1", "V", "viewer"))
    with pytest.raises(EditError, match="households"):
        edit_grid(tiny, "G01", {"households": -5}, user=worker)
    staff = User("s1", "S", "staff", Scope.parse("street:街道甲"))
    assert edit_grid(tiny, "G02", {"grid_name": "新名"}, user=staff) is not None
    assert edit_grid(tiny, "G02", {"grid_name": "新名"}, user=staff) is None  # no change
    assert len(tiny.accounts().read_audit()) == 1


def test_audit_page_shows_a_planner_import(tiny, tmp_path):
    from data.importing import import_file

    planner = User("p_one", "规划一", "planner")
    src = tmp_path / "grids.gpkg"
    tiny.read("grids").to_file(src, driver="GPKG")
    import_file(src, layer="grids", store=tiny, mode="replace", user=planner)
    (row,) = tiny.accounts().read_audit().itertuples()
    assert row.user_name == "p_one" and row.action == "import"
    assert row.rows_added == 6 and row.rows_removed == 6
    assert row.detail["file"] == "grids.gpkg" and len(row.detail["sha256"]) == 64
    at = _as("planner", page="ui/pages/audit.py")
    shown = at.dataframe[0].value
    assert shown["用户"].tolist() == ["p_one"]
    assert at.get("download_button")


# ----------------------------------------------------------------- command line
def run_cli(*argv: str, stdin: str | None = None, monkeypatch=None) -> int:
    from cli import main

    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(list(argv))


def test_users_cli(tiny, monkeypatch, capsys):
    store = str(tiny.path)
    assert (
        run_cli(
            "users",
            "--store",
            store,
            "add",
            "li",
            "--role",
            "admin",
            "--password-stdin",
            stdin="short\n",
            monkeypatch=monkeypatch,
        )
        == 2
    )
    assert "at least 10" in capsys.readouterr().err
    assert (
        run_cli(
            "users",
            "--store",
            store,
            "add",
            "li",
            "--role",
            "worker",
            "--scope",
            "grids:G01",
            "--password-stdin",
            stdin="a good long password\n",
            monkeypatch=monkeypatch,
        )
        == 0
    )
    assert run_cli("users", "--store", store, "set-role", "li", "staff") == 0
    assert run_cli("users", "--store", store, "set-scope", "li", "street:街道甲") == 0
    assert run_cli("users", "--store", store, "disable", "li") == 0
    capsys.readouterr()
    assert run_cli("users", "--store", store, "list", "--json") == 0
    (li,) = json.loads(capsys.readouterr().out)
    assert li == {
        "name": "li",
        "display_name": "li",
        "role": "staff",
        "scope": "street:街道甲",
        "disabled": True,
        "demo": False,
    }
    assert "hash" not in json.dumps(li)
    actions = tiny.accounts().read_audit()["action"].tolist()
    assert actions == ["user_change"] * 3 + ["user_add"]
    assert run_cli("users", "--store", store, "set-role", "nobody", "admin") == 2


def test_cli_as_user_is_scope_enforced(tiny, tmp_path, capsys):
    worker = User("w_cli", "W", "worker", Scope.parse("grids:G01"))
    tiny.accounts().put_user(worker, password_hash=hash_password("worker password 1"))
    src = tmp_path / "grids.gpkg"
    tiny.read("grids").to_file(src, driver="GPKG")
    assert (
        run_cli("import", str(src), "--layer", "grids", "--into", str(tiny.path), "--as", "w_cli")
        == 3
    )
    assert "may not import" in capsys.readouterr().err
    assert run_cli("gaps", "--data", str(tiny.path), "--json", "--as", "w_cli") == 0
    mine = json.loads(capsys.readouterr().out)
    assert run_cli("gaps", "--data", str(tiny.path), "--json") == 0
    everything = json.loads(capsys.readouterr().out)
    assert mine != everything
    assert run_cli("gaps", "--data", str(tiny.path), "--json", "--as", "ghost") == 3
    out = tmp_path / "mine.xlsx"
    assert run_cli("report", "--data", str(tiny.path), "--out", str(out), "--as", "ghost") == 3
    assert run_cli("report", "--data", str(tiny.path), "--out", str(out), "--as", "w_cli") == 0
    assert out.stat().st_size > 0


def test_refuse_says_which_command_and_why(capsys):
    from commands._users import REFUSED, refuse

    assert refuse("import", ValueError("viewer may not import")) == REFUSED == 3
    assert capsys.readouterr() == ("", "import refused: viewer may not import\n")


def _cli_argv(command: str, store: str, tmp_path) -> list[str]:
    """A run of `command` on `store` that an allowed user could do (``--as`` added by the test)."""
    src = tmp_path / "grids.gpkg"
    if command == "import" and not src.exists():
        GeoPackageStore(store).read("grids").to_file(src, driver="GPKG")
    return {
        "import": ["import", str(src), "--layer", "grids", "--into", store],
        "gaps": ["gaps", "--data", store, "--json"],
        "report": ["report", "--data", store, "--out", str(tmp_path / "r.xlsx"), "--quiet"],
        "snapshot": ["snapshot", "--data", store, "--period", "2026-Q3", "--quiet"],
        "users": ["users", "--store", store, "add", "x", "--role", "viewer"],
    }[command]


@pytest.mark.parametrize("command", ["import", "gaps", "report", "snapshot", "users"])
def test_every_command_refuses_an_unknown_user_the_same_way(tiny, tmp_path, capsys, command):
    argv = _cli_argv(command, str(tiny.path), tmp_path)
    before = tiny.checksum()
    assert run_cli(*argv[:1], "--as", "ghost", *argv[1:]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"{command} refused: --as ghost: no such enabled user in {tiny}"
    assert tiny.checksum() == before


@pytest.mark.parametrize(
    ("command", "right"), [("import", "import"), ("snapshot", "snapshot"), ("users", "manage")]
)
def test_commands_refuse_a_user_without_the_right(tiny, tmp_path, capsys, command, right):
    viewer = User("v_cli", "V", "viewer", Scope.parse("city"))
    tiny.accounts().put_user(viewer, password_hash=hash_password("viewer password 1"))
    argv = _cli_argv(command, str(tiny.path), tmp_path)
    before = tiny.checksum()
    assert run_cli(*argv[:1], "--as", "v_cli", *argv[1:]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"{command} refused: ") and right in err[-1], err
    assert tiny.checksum() == before
