"""The build's folders on disk: who may read them, who may write them, and how a new
publication replaces the old one.

- Private: the restricted folder, the record store and the work folders hold
  record-level data. They are created 0700 (files 0600) whatever the umask, so no
  other local user can read them.
- One build at a time: a build holds an exclusive lock (flock) on its `--out` folder
  and on its `--store` folder; a second build on either refuses at once, saying so.
- Swapped, never half there: a finished folder replaces the one before it in a single
  `renameat2(RENAME_EXCHANGE)` on Linux, so at every instant either the old or the new
  publication is visible; elsewhere (no exchange call) two renames.
- Stale folders: a build killed hard leaves its hidden work and staging folders
  (`.did-work-<pid>-*`, `.<name>.building-<pid>`, `.<name>.previous-<pid>`); the next
  build removes those whose process is gone, and says so.

`DID_PUBLISH_KILL_AT=<point>` makes the build kill itself (SIGKILL) at a named point,
`DID_PUBLISH_INTERRUPT_AT=<point>` interrupt itself (SIGINT, as Ctrl-C does): the tests
use them to check what a hard kill or a Ctrl-C leaves behind.
"""

import ctypes
import errno
import fcntl
import logging
import os
import re
import shutil
import signal
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from publish.errors import InputError

log = logging.getLogger("did_publish")

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
# Hidden folders a build makes in --out, with the process id that made them.
STALE_PATTERNS = (
    re.compile(r"\.did-work-(?P<pid>\d+)-.*"),
    re.compile(r"\..+\.(building|previous)-(?P<pid>\d+)"),
)
RENAME_EXCHANGE = 2
AT_FDCWD = -100


def kill_point(name: str) -> None:
    """Die here with SIGKILL when DID_PUBLISH_KILL_AT names this point, or be
    interrupted as by Ctrl-C when DID_PUBLISH_INTERRUPT_AT does (tests only)."""
    if os.environ.get("DID_PUBLISH_INTERRUPT_AT") == name:
        os.kill(os.getpid(), signal.SIGINT)
    if os.environ.get("DID_PUBLISH_KILL_AT") == name:
        sys.stdout.flush()
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def make_private(path: Path) -> None:
    """`path` and everything under it readable by its owner only (0700 / 0600)."""
    if not path.exists():
        return
    paths = [path, *path.rglob("*")] if path.is_dir() else [path]
    for item in paths:
        if item.is_symlink():
            continue
        mode = PRIVATE_FOLDER if item.is_dir() else PRIVATE_FILE
        if stat.S_IMODE(item.stat().st_mode) != mode:
            item.chmod(mode)


def private_folder(path: Path) -> Path:
    """Create `path` (and parents) with the folder itself 0700, whatever the umask."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(PRIVATE_FOLDER)
    return path


@contextmanager
def locked(folder: Path, what: str) -> Iterator[None]:
    """Hold the build lock of `folder` (a flock on the folder itself, so no lock file is
    left in it), or refuse at once if another build holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                f"{folder}: another build is using this {what}; wait for it to finish, "
                "then build again"
            ) from None
        yield
    finally:
        os.close(descriptor)


def process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_folders(out_dir: Path) -> list[Path]:
    """Remove the hidden work and staging folders of builds that died; say which."""
    removed = []
    if not out_dir.is_dir():
        return removed
    for path in sorted(out_dir.iterdir()):
        for pattern in STALE_PATTERNS:
            match = pattern.fullmatch(path.name)
            if match and path.is_dir() and not process_alive(int(match["pid"])):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
                break
    if removed:
        log.warning(
            "removed %d folder(s) left by a build that was stopped: %s",
            len(removed),
            ", ".join(path.name for path in removed),
        )
    return removed


def exchange(first: Path, second: Path) -> bool:
    """Swap two existing folders in one step (Linux renameat2); False if not supported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE)
    if result == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(error, os.strerror(error), str(first))


def swap_into_place(staging: Path, target: Path, point: str = "swap") -> None:
    """Put the complete folder `staging` at `target`; the old one is removed after.

    With an exchange, `target` always names a complete folder (old, then new). Without
    one (or when there is no old folder), renames: the old is moved aside first.
    """
    if target.exists() and exchange(staging, target):
        kill_point(f"after-exchange-{point}")
        shutil.rmtree(staging, ignore_errors=True)  # it now holds the old folder
        return
    retired = target.parent / f".{target.name}.previous-{os.getpid()}"
    if target.exists():
        target.rename(retired)
        kill_point(f"between-renames-{point}")
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)


@contextmanager
def staged(target: Path, write: Callable[[Path], None], private: bool = False) -> Iterator[Path]:
    """A complete new folder for `target`, written beside it under a hidden name.

    The caller swaps it into place (`swap_into_place`); if anything fails first, it is
    removed (after a hard kill, the next build removes it: it has a dot name and the
    build's process id). `private`: 0700 / 0600, for record-level data.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    if private:
        private_folder(staging)
    try:
        write(staging)
        if private:
            make_private(staging)
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)  # swapped: it holds the old folder, if any


def write_atomically(target: Path, write: Callable[[Path], None], private: bool = False) -> None:
    """Write a folder beside `target`, then swap it into place only once complete."""
    with staged(target, write, private) as staging:
        swap_into_place(staging, target)
