"""Temporary folders of imports and uploads, named by process so stale ones can be removed.

An import unpacks a zip (and the Data page saves an upload) into a folder
``<system temp>/gridmap-<kind>-<pid>-<random>``. The folder is removed when the import ends;
one left by a killed process (whose pid no longer runs) is removed by
:func:`remove_stale_workdirs`, which every import calls before it starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

_log = logging.getLogger(__name__)
PREFIX = "gridmap-"
KINDS = ("import", "upload")
_UNNAMED_STALE_S = 24 * 3600


@contextlib.contextmanager
def workdir(kind: str) -> Iterator[Path]:
    """A fresh temporary folder for one import (`kind` is ``"import"`` or ``"upload"``)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}{kind}-{os.getpid()}-") as tmp:
        yield Path(tmp)


def remove_stale_workdirs(root: str | os.PathLike | None = None) -> list[Path]:
    """Remove import/upload folders of processes that no longer run; return them."""
    base = Path(root or tempfile.gettempdir())
    removed = []
    for kind in KINDS:
        for folder in base.glob(f"{PREFIX}{kind}-*"):
            pid_text = folder.name[len(f"{PREFIX}{kind}-") :].split("-", 1)[0]
            pid = int(pid_text) if pid_text.isdigit() else None
            if not folder.is_dir() or not is_stale(folder, pid):
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        _log.info("removed %d stale import folders", len(removed))
    return removed


def is_stale(path: Path, pid: int | None) -> bool:
    """Whether `path`, made by process `pid`, is left over.

    A name without a pid (written by an older version) counts as left over once it is a day
    old, so a writer that is still running is never touched.
    """
    if pid is not None:
        return not pid_alive(pid)
    try:
        return time.time() - path.stat().st_mtime > _UNNAMED_STALE_S
    except FileNotFoundError:
        return False


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
