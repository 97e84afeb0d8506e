"""Concurrent writers, stale temporary copies and durable renames of the GeoPackage store."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from data import tempfiles
from data.importing import import_file
from data.store import GeoPackageStore, StoreBusy, open_store
from layers.messages import in_lang
from tests._importing_fixtures import build_small_store, grids_frame

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path) -> GeoPackageStore:
    return build_small_store(tmp_path / "city.gpkg")


def _geojson(path: Path, start: int, n: int = 2) -> Path:
    """`n` grids coded G<start>.. inside the city."""
    frame = grids_frame(n)
    frame["grid_code"] = [f"G{start + i:03d}" for i in range(n)]
    path.write_text(frame.to_json(), encoding="utf-8")
    return path


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_two_concurrent_cli_appends_keep_both(store, tmp_path):
    """Two `cli.py import --append` processes started together: both sets of rows survive."""
    for trial in range(3):
        a = _geojson(tmp_path / f"a{trial}.geojson", 100 + 10 * trial)
        b = _geojson(tmp_path / f"b{trial}.geojson", 105 + 10 * trial)
        cmd = [sys.executable, "cli.py", "import", "--layer", "grids", "--into", str(store.path)]
        procs = [
            subprocess.Popen([*cmd, str(f), "--append"], cwd=ROOT, stderr=subprocess.PIPE)
            for f in (a, b)
        ]
        errs = [p.communicate(timeout=120)[1].decode() for p in procs]
        assert [p.returncode for p in procs] == [0, 0], errs
        stored = set(store.read("grids")["grid_code"])
        wanted = {f"G{100 + 10 * trial + i:03d}" for i in (0, 1, 5, 6)}
        assert wanted <= stored, f"trial {trial}: lost {sorted(wanted - stored)}"
    assert len(store.read("grids")) == 4 + 3 * 4
    assert not list(tmp_path.glob(".city.gpkg.*.tmp.gpkg"))


def test_concurrent_appends_from_threads_keep_both(store, tmp_path):
    """Two sessions of one server (threads) appending at once: both rows survive."""
    files = [_geojson(tmp_path / f"t{i}.geojson", 200 + 5 * i) for i in range(2)]
    errors = []

    def run(path: Path) -> None:
        try:
            import_file(path, layer="grids", store=GeoPackageStore(store.path), mode="append")
        except Exception as exc:  # pragma: no cover - shown by the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert {"G200", "G201", "G205", "G206"} <= set(store.read("grids")["grid_code"])


def test_writer_waits_says_so_and_gives_up(store):
    """A writer that finds the lock held waits, reports it, and raises StoreBusy at the timeout."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from data.store import GeoPackageStore; "
            f"s = GeoPackageStore({str(store.path)!r}); "
            "cm = s.lock(); cm.__enter__(); print('locked', flush=True); time.sleep(20)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline().strip() == b"locked"
        before = store.checksum()
        messages = []
        started = time.monotonic()
        busy = GeoPackageStore(store.path, lock_timeout_s=0.5)
        with (
            pytest.raises(StoreBusy, match=r"locked for 0.5 s.*store is unchanged") as info,
            busy.lock(on_wait=messages.append),
        ):
            pass  # pragma: no cover
        assert time.monotonic() - started >= 0.5
        assert len(messages) == 1 and "waiting up to 0.5 s" in messages[0]
        # both in the user's language (the Data page and cli.py import show them)
        assert "最多等待 0.5 秒" in in_lang(messages[0], "zh")
        assert "数据库未改变" in info.value.text("zh") and "unchanged" in info.value.text("en")
        assert store.checksum() == before
    finally:
        holder.kill()
        holder.communicate()
    with GeoPackageStore(store.path, lock_timeout_s=5).lock():  # freed when the holder died
        pass


def test_cli_import_reports_busy_store(store, tmp_path, capsys, monkeypatch):
    import data.importing as importing
    from cli import main
    from geo.settings import load_profile

    profile = load_profile().with_overrides(**{"import": {"lock_timeout_s": 0.3}})
    monkeypatch.setattr(importing, "load_profile", lambda path=None: profile)

    path = _geojson(tmp_path / "g.geojson", 300)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from data.store import GeoPackageStore; "
            f"cm = GeoPackageStore({str(store.path)!r}).lock(); cm.__enter__(); "
            "print('locked', flush=True); time.sleep(20)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline().strip() == b"locked"
        code = main(["import", str(path), "--layer", "grids", "--into", str(store.path)])
    finally:
        holder.kill()
        holder.communicate()
    err = capsys.readouterr().err
    assert code == 2
    assert "waiting up to 0.3 s" in err and "store unchanged" in err


def test_lock_is_reentrant_in_one_thread(store):
    with store.lock(), store.lock():
        store.write_meta({"x": "1"})
    assert store.meta()["x"] == "1"


def test_write_fsyncs_the_new_file_and_the_folder(store, monkeypatch):
    synced = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    store.write_meta({"y": "2"})
    assert any(".tmp.gpkg" in p for p in synced), synced  # the new file, before the rename
    assert str(store.path.parent) in synced  # the folder, after it


def test_stale_temp_copies_removed_live_ones_kept(store):
    folder = store.path.parent
    stale = folder / f".city.gpkg.{_dead_pid()}.abcd1234.tmp.gpkg"
    live = folder / f".city.gpkg.{os.getppid()}.efgh5678.tmp.gpkg"
    stale.write_bytes(b"x" * 1000)
    live.write_bytes(b"y")
    open_store(store.path)
    assert not stale.exists() and live.exists()
    stale.write_bytes(b"x")
    store.write_meta({"z": "3"})  # every write sweeps too
    assert not stale.exists() and live.exists()


def test_temp_copy_removed_when_a_write_fails(store, monkeypatch):
    import data.store as module

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(module, "_write_one", boom)
    with pytest.raises(RuntimeError):
        store.write_meta({"w": "1"})
    assert not list(store.path.parent.glob(".city.gpkg.*.tmp.gpkg"))


def test_killed_cli_import_leaves_nothing_after_next_open(store, tmp_path):
    """kill -9 in the middle of an import: the next opening removes its temporary copy."""
    pid = _dead_pid()
    leftover = tmp_path / f".city.gpkg.{pid}.zzzz9999.tmp.gpkg"
    leftover.write_bytes(b"partial")
    folder = Path(tempfiles.tempfile.gettempdir()) / f"gridmap-import-{pid}-abcd"
    folder.mkdir(exist_ok=True)
    (folder / "grids.shp").write_bytes(b"x")
    mine = Path(tempfiles.tempfile.gettempdir()) / f"gridmap-upload-{os.getpid()}-live"
    mine.mkdir(exist_ok=True)
    try:
        path = _geojson(tmp_path / "g.geojson", 400)
        import_file(path, layer="grids", store=open_store(store.path), mode="append")
        assert not leftover.exists()
        assert not folder.exists()
        assert mine.exists()  # this process is alive: its folder stays
    finally:
        tempfiles.shutil.rmtree(folder, ignore_errors=True)
        tempfiles.shutil.rmtree(mine, ignore_errors=True)


def test_import_workdir_named_by_pid_and_removed(store, tmp_path, monkeypatch):
    seen = []
    real = tempfiles.workdir

    def spy(kind):
        cm = real(kind)
        path = cm.__enter__()
        seen.append(path)
        return _Exit(cm, path)

    class _Exit:
        def __init__(self, cm, path):
            self.cm, self.path = cm, path

        def __enter__(self):
            return self.path

        def __exit__(self, *exc):
            return self.cm.__exit__(*exc)

    import data.importing as importing

    monkeypatch.setattr(importing, "workdir", spy)
    import_file(_geojson(tmp_path / "g.geojson", 500), layer="grids", store=store)
    assert seen and seen[0].name.startswith(f"gridmap-import-{os.getpid()}-")
    assert not seen[0].exists()


def test_sigterm_during_import_removes_the_temporary_copy(store, tmp_path):
    """A CLI import stopped with SIGTERM while it writes leaves no temporary copy behind."""
    path = _geojson(tmp_path / "g.geojson", 600)
    script = (
        "import sys, time, runpy\n"
        "import data.store as s\n"
        "real = s._write_one\n"
        "def slow(*a, **k):\n"
        "    real(*a, **k)\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(20)\n"
        "s._write_one = slow\n"
        f"sys.argv = ['cli.py', 'import', {str(path)!r}, '--layer', 'grids',"
        f" '--into', {str(store.path)!r}]\n"
        "runpy.run_path('cli.py', run_name='__main__')\n"
    )
    before = store.checksum()
    with subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE) as proc:
        assert proc.stdout.readline().strip() == b"writing"
        assert list(tmp_path.glob(".city.gpkg.*.tmp.gpkg"))
        proc.terminate()
        proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert not list(tmp_path.glob(".city.gpkg.*.tmp.gpkg"))
    assert store.checksum() == before


def test_db_copy_is_one_transaction_on_geopackage(demo_store_path, tmp_path, monkeypatch):
    """A failure in the field part of ``db copy`` leaves the target exactly as it was."""
    import cli
    from field.store import FieldStoreError, GeoPackageFieldStore

    target = GeoPackageStore(tmp_path / "target.gpkg")
    target.write({"grids": grids_frame(4)})
    assert cli.main(["db", "copy", "--from", str(target.path), "--to", str(target.path)]) == 0
    before = target.checksum()
    reports_before = len(GeoPackageFieldStore(target.path).reports())
    original = GeoPackageFieldStore.write_bulk

    def fail_after_writing(self, *args, **kwargs):
        original(self, *args, **kwargs)  # the field tables are replaced, then it fails
        raise FieldStoreError("disk full while copying field photos")

    monkeypatch.setattr(GeoPackageFieldStore, "write_bulk", fail_after_writing)
    code = cli.main(["db", "copy", "--from", str(demo_store_path), "--to", str(target.path)])
    assert code == 2
    assert target.checksum() == before
    assert len(GeoPackageFieldStore(target.path).reports()) == reports_before
    assert len(target.read("grids")) == 4
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp.gpkg")) == []
    monkeypatch.setattr(GeoPackageFieldStore, "write_bulk", original)
    assert cli.main(["db", "copy", "--from", str(demo_store_path), "--to", str(target.path)]) == 0
    assert len(GeoPackageFieldStore(target.path).reports()) > 0
    assert len(target.read("grids")) > 4
    assert not list(tmp_path.glob(".*.tmp.gpkg.lock"))  # the staged copy took no lock file
