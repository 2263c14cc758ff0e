"""A long-lived worker that runs the flowdoc CLI for the fuzz test (tests/test_fuzz.py).

Started once (``python -m tests.support.fuzz_worker``), it imports flowdoc and every command
module, then reads one JSON request a line from stdin: ``{"args": [...], "cwd": "..."}``.
For each it forks a child that sets RLIMIT_AS, changes to ``cwd``, runs the CLI in-process
with its output captured, and reports through a pipe. The worker waits for the child with a
hang guard (killed after ``HANG_SECONDS``) and writes one JSON line to stdout:

    {"exit": int | "hang" | "exception" | "died", "output": str, "cpu": s, "wall": s, "rss_mb": MB}

``rss_mb`` is the child's peak resident set (its own and that of what it ran, e.g. ``dot``),
``cpu`` its user + system time. ``"selftest": "raise" | "hang" | "alloc"`` (with ``"mb"``) runs
that instead of the CLI, and ``"hang_s"`` shortens the guard: the harness's own test. Forking keeps one run from leaking state into the next, and
costs milliseconds where a fresh interpreter per command would cost a third of a second.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import signal
import sys
import time
import traceback

HANG_SECONDS = 30.0
ADDRESS_SPACE = 2 * 1024**3  # RLIMIT_AS of each run: a runaway allocation fails instead of swapping


def _preload() -> None:
    import importlib

    from flowdoc.cli import COMMANDS

    for mod in set(COMMANDS.values()):
        importlib.import_module(f"flowdoc.cli.{mod}")
    for extra in ("flowdoc.render", "flowdoc.diff", "flowdoc.diff.check", "flowdoc.diff.format",
                  "flowdoc.diff.git", "flowdoc.model.schema", "jinja2"):
        importlib.import_module(extra)


def _run_cli(args: list[str]) -> tuple[object, str]:
    from flowdoc.cli import cli

    out = io.StringIO()
    code: object = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            cli.main(args=args, prog_name="flowdoc", standalone_mode=True)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001 - a traceback is what the fuzz test looks for
            traceback.print_exc(file=out)
            code = "exception"
    return code, out.getvalue()


def _selftest(req: dict) -> tuple[object, str]:
    kind = req["selftest"]
    if kind == "hang":
        time.sleep(3600)
    try:
        if kind == "raise":
            raise RuntimeError("a crash inside the run")
        block = b"x" * (req.get("mb", 1) * 1024 * 1024)  # touched, so resident
        return 0, f"allocated {len(block) // 1048576} MB"
    except BaseException:  # noqa: BLE001
        return "exception", traceback.format_exc()


def _child(req: dict, wfd: int) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
        os.chdir(req.get("cwd") or ".")
        os.environ["NO_COLOR"] = "1"
        code, output = _selftest(req) if req.get("selftest") else _run_cli(req["args"])
        data = json.dumps({"exit": code, "output": output[-1_000_000:]}).encode()
    except BaseException:  # noqa: BLE001
        data = json.dumps({"exit": "exception", "output": traceback.format_exc()[-100_000:]}).encode()
    with os.fdopen(wfd, "wb") as fh:
        fh.write(data)
    os._exit(0)


def _read_all(fd: int, deadline: float, pid: int) -> tuple[bytes, bool]:
    import select

    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"".join(chunks), True
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks), False
            chunks.append(chunk)


def run_one(req: dict) -> dict:
    rfd, wfd = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(rfd)
        _child(req, wfd)
    os.close(wfd)
    hang_s = float(req.get("hang_s", HANG_SECONDS))
    data, hung = _read_all(rfd, start + hang_s, pid)
    os.close(rfd)
    if hung:
        os.kill(pid, signal.SIGKILL)
    _pid, status, usage = os.wait4(pid, 0)
    wall = time.monotonic() - start
    result = {"exit": "died", "output": f"the run ended with status {status} and no report"}
    if hung:
        result = {"exit": "hang", "output": f"killed after {hang_s:.0f} s"}
    elif data:
        try:
            result = json.loads(data)
        except ValueError:
            result = {"exit": "died", "output": "an unreadable report"}
    result.update(cpu=usage.ru_utime + usage.ru_stime, wall=wall, rss_mb=usage.ru_maxrss / 1024)
    return result


def main() -> None:
    _preload()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        print(json.dumps(run_one(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
