"""Sign-in in a real browser (Playwright, Debian's Chromium), on the tiny store.

Signed out, the page and its WebSocket messages carry no layer data; a grid worker sees their
own grid and is refused another; a planner's import shows on the audit page with their name;
repeated wrong passwords are throttled.
"""

from __future__ import annotations

from datetime import timedelta

from auth.model import Scope, User
from auth.passwords import hash_password
from auth.storage import utcnow
from data.store import GeoPackageStore
from tests._auth import make_user
from tests._browser import BROWSER_MARKS, ScriptRuns, offline_page, screenshot, sign_in

pytestmark = BROWSER_MARKS

#: Texts of the tiny store that must never reach a signed-out browser (grid and worker names,
#: a grid code, a phone number, a facility name).
SECRETS = ("一号网格", "张三", "G03", "13812341234", "一号社区邻里中心")


def _frames(page) -> list[bytes]:
    """Every WebSocket message the page receives, as bytes (collected from now on)."""
    received: list[bytes] = []

    def on_socket(ws):
        ws.on(
            "framereceived",
            lambda payload: received.append(
                payload if isinstance(payload, bytes) else payload.encode()
            ),
        )

    page.on("websocket", on_socket)
    return received


def test_signed_out_only_login_and_no_layer_data(server):
    with offline_page() as page:
        received = _frames(page)
        page.goto(f"{server}/")
        page.get_by_label("用户名").wait_for(timeout=30_000)
        page.goto(f"{server}/my_grid?grid=G01")  # a deep link does not get past the login
        page.get_by_label("用户名").wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        body = page.inner_text("body")
        html = page.content()
        nav = page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()
        assert nav in ([], ["登录"]), nav
        assert received, "no WebSocket messages were seen"
        for secret in SECRETS:
            assert secret not in body and secret not in html, secret
            assert not any(secret.encode() in frame for frame in received), secret
        assert page.locator("iframe[title*='st_folium']").count() == 0
        screenshot(page, "login_signed_out")


def test_worker_sees_own_grid_and_is_refused_another(server, tiny_path):
    account = make_user(GeoPackageStore(tiny_path), "worker", "grids:G01")
    with offline_page(intercept=False) as page:
        sign_in(page, server, *account)
        page.goto(f"{server}/my_grid")
        page.get_by_text("一号网格 · G01").first.wait_for(timeout=30_000)
        nav = " ".join(page.locator("[data-testid='stSidebarNav'] a").all_inner_texts())
        assert "我的网格" in nav and "数据管理" not in nav and "操作记录" not in nav
        received = _frames(page)
        page.goto(f"{server}/my_grid?grid=G03")
        page.get_by_text("不在您的负责范围内").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1000)
        body = page.inner_text("body")
        assert "三号网格" not in body and "李四" not in body
        assert not any("李四".encode() in frame for frame in received)
        page.goto(f"{server}/data")
        page.wait_for_timeout(3000)
        # Streamlit opens the default page (My grid) instead: no Data page exists for a worker
        assert "导入文件" not in page.inner_text("body")
        assert page.get_by_role("heading", name="数据管理").count() == 0
        screenshot(page, "worker_refused")


def test_planner_import_shows_on_the_audit_page(server, tiny_path, tmp_path):
    store = GeoPackageStore(tiny_path)
    store.accounts().put_user(
        User("li_planner", "李规划", "planner", Scope()),
        password_hash=hash_password("planner password 7"),
    )
    upload = tmp_path / "grids.geojson"
    store.read("grids").to_file(upload, driver="GeoJSON")
    with offline_page(intercept=False) as page:
        sign_in(page, server, "li_planner", "planner password 7")
        runs = ScriptRuns(page)
        runs.wait_for_run(lambda: page.goto(f"{server}/data"))
        page.locator("[data-testid='stFileUploaderDropzone']").first.wait_for(timeout=30_000)
        # the upload ends in a rerun of the page: the form is used once that run has finished
        # (the file's name shows in the browser before the upload reaches the server)
        upload_input = page.locator("input[type='file']").first
        runs.wait_for_run(lambda: upload_input.set_input_files(str(upload)))
        # the select box's list (react-aria) closes whenever the page scrolls. Playwright scrolls
        # the box only just into view, at the bottom edge, and the browser then scrolled the page
        # a few pixels more to show the focused box: the list closed as it opened (under load,
        # as the page's layout settled late). With the box in the middle nothing scrolls.
        box = page.get_by_role("combobox", name="目标图层", exact=True).first
        box.evaluate("el => el.scrollIntoView({block: 'center'})")
        box.click()
        option = page.get_by_role("option", name="网格 (grids)", exact=True).first
        try:
            option.wait_for(timeout=30_000)
        except Exception:
            screenshot(page, "planner_import_layer_list")
            raise
        runs.wait_for_run(option.click)
        assert "grids" in box.input_value()
        page.get_by_role("button", name="导入", exact=True).click()
        try:
            page.get_by_text("已导入 6 行").first.wait_for(timeout=60_000)
        finally:
            screenshot(page, "planner_import")
        page.goto(f"{server}/audit")
        table = page.locator("[data-testid='stDataFrame']").first
        table.wait_for(timeout=30_000)
        page.wait_for_timeout(1000)
        screenshot(page, "audit_after_import")
    (row,) = store.accounts().read_audit(action="import").itertuples()
    assert row.user_name == "li_planner" and row.detail["file"] == "grids.geojson"
    # the audit page's table is drawn on a canvas: its rows are read back through the page's
    # XLSX export, which is built from the same rows
    from auth.audit import audit_table

    assert audit_table(store.accounts().read_audit())["用户"].tolist()[0] == "li_planner"


def test_throttled_after_repeated_wrong_passwords(server, tiny_path):
    store = GeoPackageStore(tiny_path)
    name, password = make_user(store, "viewer")
    since = utcnow() - timedelta(minutes=1)
    with offline_page() as page:
        page.goto(f"{server}/")
        for attempt in range(1, 6):  # the profile's max_failures_per_user
            page.get_by_label("用户名").fill(name)
            page.get_by_label("密码").fill("not the password")
            page.get_by_role("button", name="登录").click()
            page.get_by_text("用户名或密码错误").first.wait_for(timeout=30_000)
            page.wait_for_function("() => true", timeout=1000)  # let the run finish before counting
            for _ in range(100):
                if store.accounts().count_failures(since=since, user_name=name) >= attempt:
                    break
                page.wait_for_timeout(100)
            assert store.accounts().count_failures(since=since, user_name=name) == attempt
        page.get_by_label("用户名").fill(name)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        try:
            page.get_by_text("登录失败次数过多").first.wait_for(timeout=30_000)
        finally:
            screenshot(page, "login_throttled")
        assert page.get_by_role("button", name="退出登录").count() == 0
        screenshot(page, "login_throttled")
