"""The output folder of ``flowdoc build``: what it may replace, its marker, its lock, leftovers.

- A build replaces the output folder whole. It replaces only a folder that is missing, empty
  or carries flowdoc's marker file (:data:`MARKER`, written into every site built), unless
  ``force``: a folder of someone else's files is never deleted by mistake.
- Paths are compared resolved (``./x``, ``a/../x``, absolute paths and links name one folder):
  the output may not be, contain or lie in the flows folder, and the cache may not lie in the
  flows folder (its ``mkdocs.yml`` would be read as a flow) nor in the output.
- Builds into one output folder run one at a time (:func:`output_lock`, a lock on the folder
  it is in), and so do builds that share a cache (:func:`cache_lock`). Holding that lock, a
  build removes the temporary folders that killed builds left beside the output
  (:func:`sweep`): no build that is running owns one then.
- The old output, renamed aside by the swap, is removed in a thread while the build finishes;
  the build waits for it before it releases the output's lock (:func:`wait_removals`), so
  nothing is left beside the output when it returns.
- A failed first build leaves nothing it created: the folders it made above the output and
  the cache, and a cache no build finished in, are removed again.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from .cache import clear_cache
from .errors import PublishError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "MARKER",
    "check_cache",
    "check_layout",
    "check_not_replacing",
    "check_replaceable",
    "cache_lock",
    "inside",
    "new_temp",
    "output_lock",
    "swap_in",
    "sweep",
    "wait_removals",
    "write_marker",
]

#: the file that marks a folder as a site flowdoc built (and may replace)
MARKER = ".flowdoc-site"
MARKER_TEXT = (
    "This folder is a site built by flowdoc (flowdoc build / flowdoc serve).\n"
    "The next build replaces the whole folder: do not keep other files here.\n"
)
#: files that mark a folder as a flowdoc build cache (the first is written in every cache)
CACHE_MARKERS = ("CACHEDIR.TAG", "manifest.json", "lock")
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by flowdoc (the cache of flowdoc build).\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)


def inside(path: Path, folder: Path) -> bool:
    """``path`` is ``folder`` or lies in it (both resolved)."""
    return path == folder or folder in path.parents


def _leftover_re(out: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(out.name)}\.(?:tmp|old)-[0-9a-f]{{8}}")


def check_layout(out: Path, flows_dir: Path, cache: Path) -> None:
    """Refuse outputs and caches that would overwrite the flows or each other (resolved paths)."""
    out, flows_dir, cache = out.resolve(), flows_dir.resolve(), cache.resolve()
    if out.exists() and not out.is_dir():
        raise PublishError(f"{out}: the output exists and is not a folder")
    check_not_replacing(out, [flows_dir, cache, Path.cwd()])
    if inside(out, flows_dir):
        raise PublishError(
            f"{out}: the output folder is inside the flows folder {flows_dir}; choose an --out outside it"
        )
    if inside(cache, flows_dir):
        raise PublishError(
            f"{cache}: the build cache would be inside the flows folder {flows_dir} (its files would be read "
            "as flows); choose a --cache-dir outside it"
        )
    if inside(out, cache):
        raise PublishError(f"{out}: the output folder is inside the build cache {cache}; choose another --out")


def check_not_replacing(out: Path, folders: Iterable[Path]) -> None:
    """Refuse an output folder that is or contains one of ``folders``."""
    for p in folders:
        p = p.resolve()
        if inside(p, out):
            raise PublishError(f"{out}: the output folder would replace {p}; choose another --out")


def check_replaceable(out: Path, *, force: bool = False, hint: str = "or pass --force to replace it") -> None:
    """Refuse to replace a non-empty folder that flowdoc did not build (no :data:`MARKER`), unless ``force``."""
    if force or not out.is_dir() or (out / MARKER).is_file():
        return
    with os.scandir(out) as entries:
        if next(entries, None) is None:
            return
    raise PublishError(
        f"{out}: the folder exists, is not empty and was not built by flowdoc (no {MARKER} file in it); "
        f"a build replaces the whole output folder. Choose another --out, empty the folder, {hint}"
    )


def check_cache(cache: Path) -> None:
    """Refuse a cache folder that holds other files (the build writes and deletes files in it)."""
    if not cache.is_dir() or any((cache / m).exists() for m in CACHE_MARKERS):
        return
    with os.scandir(cache) as entries:
        if next(entries, None) is None:
            return
    raise PublishError(
        f"{cache}: the cache folder is not empty and is not a flowdoc build cache (no CACHEDIR.TAG file); "
        "choose an empty or new --cache-dir"
    )


def mark_cache(cache: Path) -> None:
    tag = cache / "CACHEDIR.TAG"
    if not tag.is_file():
        tag.write_text(CACHEDIR_TAG, encoding="utf-8")


def write_marker(site: Path) -> None:
    (site / MARKER).write_text(MARKER_TEXT, encoding="utf-8")


def _new_folders(path: Path) -> list[Path]:
    """``path`` and those of its parents that do not exist yet, deepest first."""
    made: list[Path] = []
    while not os.path.lexists(path) and path != path.parent:
        made.append(path)
        path = path.parent
    return made


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (deepest first) while they are empty; a folder in use stays."""
    for d in folders:
        try:
            d.rmdir()
        except OSError:
            return


def _same_file(fd: int, path: Path) -> bool:
    """``fd`` is still the file at ``path`` (a failed first build may have removed it meanwhile)."""
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _flock(prepare, path: Path, *, folder: bool = False) -> int | None:
    """Lock ``path`` (a folder, or a lock file created if missing) after ``prepare()`` made what it
    needs; again when a failed first build removed it meanwhile. ``None``: no locks here."""
    while True:
        prepare()
        if fcntl is None:  # pragma: no cover - not POSIX
            return None
        flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if folder else os.O_RDWR | os.O_CREAT
        fd = os.open(path, flags, 0o666)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _same_file(fd, path):
            return fd
        os.close(fd)


def _unlock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing releases the lock


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold a lock on the folder the output is in while building into it (no file is left there).

    The folders this creates above the output are removed again when the build fails, if
    they are empty: a failed first build leaves nothing behind."""
    made = _new_folders(out.parent)
    fd = _flock(lambda: out.parent.mkdir(parents=True, exist_ok=True), out.parent, folder=True)
    try:
        yield
    except BaseException:
        wait_removals()
        _remove_empty(made)
        raise
    finally:
        wait_removals()
        _unlock(fd)


@contextmanager
def cache_lock(cache: Path) -> Iterator[None]:
    """Create and mark the cache folder and hold its lock (builds that share a cache run one at
    a time). When a build fails on a cache folder it created and no build finished in, the
    folder is removed again, with what the build wrote in it: a failed first build leaves
    nothing behind (a later build that waited for the lock creates it anew)."""
    made = _new_folders(cache)

    def prepare() -> None:
        cache.mkdir(parents=True, exist_ok=True)
        mark_cache(cache)

    fd = _flock(prepare, cache / "lock")
    try:
        fresh = not (cache / "manifest.json").exists()
        yield
    except BaseException:
        if made and fresh:
            _remove_cache(cache)
            _remove_empty(made)
        raise
    finally:
        _unlock(fd)


def _remove_cache(cache: Path) -> None:
    """What builds write in a cache folder, its tag and its lock (the lock still held)."""
    try:
        clear_cache(cache)
    except OSError:
        return
    for name in ("CACHEDIR.TAG", "lock"):
        (cache / name).unlink(missing_ok=True)


def sweep(out: Path) -> list[str]:
    """Remove the temporary and old outputs killed builds left beside ``out`` (call it holding
    :func:`output_lock`); return their names."""
    pattern = _leftover_re(out)
    gone: list[str] = []
    try:
        entries = list(os.scandir(out.parent))
    except OSError:
        return gone
    for e in entries:
        if not pattern.fullmatch(e.name):
            continue
        if e.is_dir(follow_symlinks=False):
            shutil.rmtree(e.path, ignore_errors=True)
        else:
            Path(e.path).unlink(missing_ok=True)
        gone.append(e.name)
    return gone


def new_temp(out: Path) -> Path:
    """A fresh name beside ``out`` for the next site (swept by the next build if this one dies)."""
    return out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"


#: old outputs being removed (:func:`swap_in`), joined by :func:`wait_removals`
_removals: list[threading.Thread] = []


def swap_in(tmp: Path, out: Path) -> None:
    """Replace ``out`` by ``tmp`` (both on one file system); the old output, renamed aside, is
    removed after, in a thread of its own while the build finishes (its manifest): the build
    waits for it before it lets go of the output's lock (:func:`output_lock`), so nothing is
    left beside the output when it returns (and :func:`sweep` removes it if the build was killed)."""
    if out.exists():
        old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
        os.rename(out, old)
        try:
            os.rename(tmp, out)
        except BaseException:
            os.rename(old, out)
            raise
        remover = threading.Thread(target=shutil.rmtree, args=(old,), kwargs={"ignore_errors": True},
                                   name=f"flowdoc-remove-{old.name}")
        remover.start()
        _removals.append(remover)
    else:
        os.rename(tmp, out)


def wait_removals() -> None:
    """Wait until the old outputs :func:`swap_in` set aside are removed."""
    while _removals:
        _removals.pop().join()
