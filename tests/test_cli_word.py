"""The CLI keeps its word: exit codes as each --help says, files with the user's umask, no
temporary folder left by any exit, right counts, Ctrl-C = 130, --format honoured, a failed first
build leaves nothing, and the README's set-up command works."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from flowdoc.check import RULES
from flowdoc.cli import COMMANDS
from flowdoc.diagnostics import Diagnostic, summary
from flowdoc.publish.output import cache_lock
from tests.helpers import run
from tests.flowkit import base, to_yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "flows" / "client-credentials.yaml"
EXAMPLE_V1 = ROOT / "flows" / "client-credentials.v1.0.yaml"



def env(**extra) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", **extra}


def mini(folder: Path, name: str = "mini.yaml", data=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text(data if isinstance(data, str) else to_yaml(data or base()))
    return p


def tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


# ---------------------------------------------------------------- 1. exit codes in --help

ALL_COMMANDS = [[c] for c in sorted(COMMANDS) if c not in ("export", "import")] + [
    ["export", "arazzo"], ["import", "arazzo"]]


def exit_codes_in_help(args: list[str]) -> set[int]:
    r = run(*args, "--help")
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "Exit codes" in text, f"{args}: no exit codes in --help"
    para = text[text.index("Exit codes"):]
    return {int(n) for n in re.findall(r"(?<![\w.])(\d{1,3})(?= [a-z(])", para)}


@pytest.mark.parametrize("args", ALL_COMMANDS, ids=" ".join)
def test_each_command_help_lists_its_own_exit_codes(args):
    codes = exit_codes_in_help(args)
    assert 2 in codes  # usage errors, everywhere
    # only commands that talk to a server can say it was unreachable
    assert (3 in codes) == (args[0] in ("verify", "new")), codes
    assert (1 in codes) == (args[0] in ("lint", "check", "verify", "diff", "export", "import")), codes


def test_group_help_keeps_the_overview():
    assert {0, 1, 2, 3, 130, 143} <= exit_codes_in_help([])


def test_documented_codes_are_the_ones_given(tmp_path):
    """Each code seen here is one the command's --help lists."""
    bad = mini(tmp_path, "bad.yaml", "- not a flow\n")
    findings = base()
    findings.pop("summary")
    lintme = mini(tmp_path, "findings.yaml", findings)
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    closed = free_port()
    cases = [
        (["validate", bad], 2),
        (["lint", lintme], 1),
        (["schema", "-o", blocked / "s.json"], 2),
        (["render", tmp_path / "none.yaml"], 2),
        (["diff", EXAMPLE_V1, EXAMPLE, "--fail-on", "warning"], 1),
        (["export", "arazzo", EXAMPLE, "-o", blocked / "x.arazzo.yaml"], 2),
        (["import", "arazzo", bad], 2),
        (["new", "--from-discovery", f"http://127.0.0.1:{closed}/.well-known/openid-configuration",
          "-o", tmp_path / "new"], 3),
    ]
    for args, code in cases:
        r = run(*args)
        assert r.exit_code == code, (args, r.output)
        assert code in exit_codes_in_help(args[:2] if args[0] in ("export", "import") else args[:1]), args


# ---------------------------------------------------------------- 2. files get the user's umask


@pytest.fixture
def umask():
    old = os.umask(0o022)
    os.umask(old)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(old)


def writers(tmp_path: Path, out: Path) -> dict[str, list]:
    arazzo = tmp_path / "in" / "cc.arazzo.yaml"
    assert run("export", "arazzo", EXAMPLE, "-o", arazzo).exit_code == 0
    flow = mini(tmp_path / "in")
    port = free_port()
    return {
        "schema": ["schema", "-o", out / "schema.json"],
        "render": ["render", EXAMPLE, "-o", out / "seq.mmd"],
        "render-markdown": ["render", EXAMPLE, "--format", "markdown", "-o", out / "page.md"],
        "diff": ["diff", EXAMPLE_V1, EXAMPLE, "-o", out / "changes.txt"],
        "diff-list": ["diff", "--list-changes", "-o", out / "kinds.txt"],
        "export": ["export", "arazzo", EXAMPLE, "-o", out / "cc.arazzo.yaml"],
        "new": ["new", "client-credentials", "--id", "orders", "-o", out / "orders.yaml"],
        "import": ["import", "arazzo", arazzo, "-o", out / "imported.yaml"],
        "verify": ["verify", flow, "--input", f"issuer=http://127.0.0.1:{port}", "--input", "client_id=c1",
                   "-q", "--junit", out / "v.xml", "--report-json", out / "v.json"],
    }


@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_get_the_users_umask(tmp_path, umask, mask, mode):
    out = tmp_path / "out"
    jobs = writers(tmp_path, out)
    umask(mask)
    for name, args in jobs.items():
        r = run(*args, env={"FLOWDOC_CLIENT_SECRET": "not-a-real-secret-value"})
        assert r.exit_code in (0, 3), (name, r.output)  # verify: the server is not there (3)
    written = sorted(p for p in out.iterdir())
    assert len(written) >= len(jobs) + 1  # export writes the OpenAPI description beside
    for p in written:
        assert not p.name.endswith(".tmp"), p
        assert stat.S_IMODE(p.stat().st_mode) == mode, (p.name, oct(p.stat().st_mode))


def test_a_replaced_file_keeps_its_mode(tmp_path, umask):
    target = tmp_path / "schema.json"
    target.write_text("old")
    target.chmod(0o640)
    umask(0o022)
    assert run("schema", "-o", target).exit_code == 0
    assert json.loads(target.read_text())["title"] == "flowdoc flow"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_file_that_cannot_be_written_is_a_clean_error(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    r = run("render", EXAMPLE, "-o", blocked / "seq.mmd")
    assert r.exit_code == 2
    assert "cannot write" in r.stderr and str(blocked / "seq.mmd") in r.stderr
    assert sorted(tmp_path.iterdir()) == [blocked]


# ---------------------------------------------------------------- 3 and 5. serve, signals, temp folders


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cmd:
    """``python -m flowdoc ARGS`` with its own empty TMPDIR and its output in a file."""

    def __init__(self, tmp_path: Path, *args, **extra_env):
        self.tmp = tmp_path / "system-tmp"
        self.tmp.mkdir(exist_ok=True)
        self.log = tmp_path / "log.txt"
        self.fh = open(self.log, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "flowdoc", *map(str, args)], cwd=tmp_path,
                                     stdout=self.fh, stderr=subprocess.STDOUT,
                                     env=env(TMPDIR=str(self.tmp), **extra_env))

    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, pattern: str, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if re.search(pattern, self.output()):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"no {pattern!r} in: {self.output()}")

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.fh.close()


@pytest.mark.parametrize("sig,code,word", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
def test_serve_stopped_by_a_signal_leaves_no_temp_folder(tmp_path, sig, code, word):
    mini(tmp_path / "flows")
    cmd = Cmd(tmp_path, "serve", "--port", "0", "--flows", "flows")
    cmd.wait_for(r"Serving http://127\.0\.0\.1:\d+/")
    assert any(cmd.tmp.iterdir())  # the preview lives there while serving
    cmd.proc.send_signal(sig)
    assert cmd.wait() == code, cmd.output()
    out = cmd.output()
    assert f"flowdoc: {word}" in out and "Aborted!" not in out and "Traceback" not in out
    assert list(cmd.tmp.iterdir()) == []


def test_serve_after_a_failed_build_leaves_no_temp_folder(tmp_path):
    mini(tmp_path / "flows", data="id: x\n")
    cmd = Cmd(tmp_path, "serve", "--port", "0", "--flows", "flows")
    cmd.wait_for(r"Serving http://")
    assert "build failed" in cmd.output()
    cmd.proc.terminate()
    assert cmd.wait() == 143
    assert list(cmd.tmp.iterdir()) == []


def test_serve_errors_leave_no_temp_folder(tmp_path):
    mini(tmp_path / "flows")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for args, says in [
            (["serve", "--port", "0", "--flows", "missing"], "no such flows folder"),
            (["serve", "--port", str(port), "--flows", "flows"], "cannot serve on 127.0.0.1"),
            (["serve", "--port", "-1"], "Invalid value"),
        ]:
            cmd = Cmd(tmp_path, *args)
            rc = cmd.wait(timeout=120)
            assert rc == 2 and says in cmd.output(), (args, cmd.output())
            assert list(cmd.tmp.iterdir()) == [], args


class HangingServer:
    """A socket on 127.0.0.1 that accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.accepted = threading.Event()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.accepted.set()

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


def test_ctrl_c_during_verify_exits_130(tmp_path):
    server = HangingServer()
    try:
        flow = mini(tmp_path / "flows")
        cmd = Cmd(tmp_path, "verify", flow, "--input", f"issuer=http://127.0.0.1:{server.port}",
                  "--input", "client_id=c1", "--timeout", "120",
                  FLOWDOC_CLIENT_SECRET="not-a-real-secret-value")
        assert server.accepted.wait(60), cmd.output()
        time.sleep(0.2)  # the request is sent; verify waits for the answer
        cmd.proc.send_signal(signal.SIGINT)
        assert cmd.wait(timeout=30) == 130, cmd.output()
        out = cmd.output()
        assert "flowdoc: interrupted" in out and "Aborted!" not in out and "Traceback" not in out
    finally:
        server.close()


def test_ctrl_c_in_any_command_is_130(monkeypatch, tmp_path):
    """The group turns KeyboardInterrupt into 130 for every command, a nested one too."""
    import flowdoc.cli.export as export

    def interrupted(flow):
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "_valid_flow", interrupted)
    r = run("export", "arazzo", EXAMPLE, "-o", tmp_path / "x.yaml")
    assert r.exit_code == 130 and "flowdoc: interrupted" in r.stderr and "Aborted!" not in r.output


# ---------------------------------------------------------------- 4. counts and messages


def test_summary_counts_paths_as_paths():
    missing = Diagnostic("gone.yaml", None, None, "not-found", "no such file or folder")
    bad = Diagnostic("a.yaml", 1, 1, "missing-key", "x")
    assert summary([missing], 0) == "1 error: 1 path not found"
    assert summary([missing, bad], 1) == "2 errors in 1 of 1 file; 1 path not found"
    assert summary([bad], 3) == "1 error in 1 of 3 files"
    assert summary([Diagnostic("d", None, None, "no-flows", "no flow files")], 0) == "1 error: no flow files found"
    assert summary([], 2) == "2 files checked, no problems"


@pytest.mark.parametrize("cmd", ["validate", "lint", "verify"])
def test_missing_path_is_counted_right(tmp_path, cmd):
    good = mini(tmp_path / "flows")
    r = run(cmd, tmp_path / "gone.yaml")
    assert r.exit_code == 2
    assert "1 error: 1 path not found" in r.stderr and "of 0 files" not in r.stderr
    r = run(cmd, tmp_path / "gone.yaml", good)
    assert r.exit_code == 2 and "1 error in 0 of 1 file; 1 path not found" in r.stderr, r.stderr


@pytest.mark.parametrize("args", [["render"], ["export", "arazzo"]], ids=" ".join)
def test_missing_file_is_no_such_file(tmp_path, args):
    r = run(*args, tmp_path / "gone.yaml")
    assert r.exit_code == 2
    assert f"{tmp_path / 'gone.yaml'}: no such file" in r.stderr and "not a valid flow" not in r.stderr


# ---------------------------------------------------------------- 6. --format as offered

FORMAT_CASES = [
    ["validate", "{good}"], ["validate", "{bad}"], ["validate", "{gone}"],
    ["lint", "{good}"], ["lint", "{bad}"], ["lint", "--list-rules"],
    ["check", "--openapi", "{openapi}", "{good}"], ["check", "--openapi", "{openapi}", "{bad}"],
    ["diff", str(EXAMPLE_V1), str(EXAMPLE)], ["diff", "{bad}", str(EXAMPLE)], ["diff", "--list-changes"],
]


@pytest.mark.parametrize("args", FORMAT_CASES, ids=" ".join)
@pytest.mark.parametrize("fmt", ["json", "github"])
def test_format_is_honoured(tmp_path, args, fmt):
    good = mini(tmp_path)
    bad = mini(tmp_path, "bad.yaml", "id: x\nid: y\n")
    openapi = tmp_path / "openapi.yaml"
    openapi.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n")
    names = {"good": good, "bad": bad, "gone": tmp_path / "gone.yaml", "openapi": openapi}
    r = run(*[a.format(**names) for a in args], "--format", fmt)
    listing = "--list-rules" in args or "--list-changes" in args
    if fmt == "github" and listing:  # a listing has no line to annotate: refused, not text
        assert r.exit_code == 2 and "--format github" in r.stderr
        return
    assert r.exit_code in (0, 1, 2), r.output
    if fmt == "json":
        data = json.loads(r.stdout)
        if "{bad}" in args:
            assert any(d["code"] == "duplicate-key" for d in data)
    else:
        assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in r.stdout.splitlines())
        if "{bad}" in args:
            assert "title=duplicate-key" in r.stdout


def test_lint_list_rules_as_json():
    r = run("lint", "--list-rules", "--format", "json")
    assert r.exit_code == 0
    rules = json.loads(r.stdout)
    assert [x["id"] for x in rules] == list(RULES)
    assert all(x["severity"] in ("error", "warning", "info") and x["rationale"] for x in rules)


# ---------------------------------------------------------------- 7. a failed first build leaves nothing


@pytest.mark.parametrize("extra", [[], ["--out", "deep/er/site", "--cache-dir", "c/ache"]], ids=["default", "nested"])
def test_failed_first_build_leaves_nothing(tmp_path, monkeypatch, extra):
    mini(tmp_path / "flows", data="id: x\n")
    before = tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    r = run("build", *extra)
    assert r.exit_code == 2 and "invalid flow" in r.stderr
    assert tree(tmp_path) == before


def test_first_build_failing_in_mkdocs_leaves_nothing(tmp_path, monkeypatch):
    mini(tmp_path / "flows")
    (tmp_path / "proj" / "docs").mkdir(parents=True)
    (tmp_path / "proj" / "mkdocs.yml").write_text("site_name: x\ntheme: {name: no-such-theme}\n")
    before = tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    r = run("build", "--config-file", "proj/mkdocs.yml")
    assert r.exit_code == 2 and "configuration error" in r.stderr
    assert tree(tmp_path) == before


def test_failed_later_build_keeps_site_and_cache(tmp_path, monkeypatch):
    flow = mini(tmp_path / "flows")
    monkeypatch.chdir(tmp_path)
    assert run("build").exit_code == 0
    built = tree(tmp_path)
    flow.write_text("id: x\n")
    assert run("build").exit_code == 2
    assert tree(tmp_path) == built


def test_a_build_waiting_for_a_failed_first_build_gets_a_cache(tmp_path):
    """The first build removes its new cache folder when it fails; a build waiting for the lock
    then creates it anew and holds the lock on the file that is there (not on a removed one)."""
    cache = tmp_path / "build" / ".flowdoc-cache" / "site"
    got_lock = threading.Event()
    release = threading.Event()
    second: dict[str, object] = {}

    def first() -> None:
        try:
            with cache_lock(cache):
                got_lock.set()
                release.wait(10)
                raise RuntimeError("the build failed")
        except RuntimeError:
            pass

    def waiting() -> None:
        with cache_lock(cache):
            second["lock_there"] = (cache / "lock").is_file() and (cache / "CACHEDIR.TAG").is_file()

    t1 = threading.Thread(target=first)
    t1.start()
    assert got_lock.wait(10)
    t2 = threading.Thread(target=waiting)
    t2.start()
    time.sleep(0.3)
    assert "lock_there" not in second  # waits for the first build
    release.set()
    t1.join(10)
    t2.join(10)
    assert second == {"lock_there": True}


# ---------------------------------------------------------------- 8. the README's set-up


def readme_setup_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Set-up on a fresh machine"):]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_readme_setup_is_a_venv_then_ci():
    first, second = readme_setup_commands()
    steps = [s.strip() for s in first.split("&&")]
    assert steps[:3] == ["python3 -m venv .venv", ". .venv/bin/activate", "pip install -e ."]
    assert steps[3:] and all(s.startswith("flowdoc ") for s in steps[3:])
    assert second == "bash .ci/run"


def test_readme_flowdoc_commands_run(tmp_path):
    """Each flowdoc command of the README's first command, in a copy of the repository."""
    for name in ("flows", "site"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    first = readme_setup_commands()[0]
    for step in (s.strip() for s in first.split("&&")):
        if step.startswith("flowdoc "):
            argv = shlex.split(step)[1:]
            proc = subprocess.run([sys.executable, "-m", "flowdoc", *argv], cwd=tmp_path, env=env(),
                                  capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, (step, proc.stdout[-2000:], proc.stderr[-2000:])
    assert (tmp_path / "build" / "site" / "index.html").is_file()


@pytest.mark.slow
def test_readme_venv_steps_give_a_pip_of_the_venv(tmp_path):
    """The venv steps of the first command, literally (with --system-site-packages so nothing is
    downloaded): the pip the next step runs is the venv's, which no externally-managed Python refuses."""
    steps = [s.strip() for s in readme_setup_commands()[0].split("&&")]
    venv_steps = " && ".join(steps[:2]).replace("-m venv ", "-m venv --system-site-packages ", 1)
    script = f"{venv_steps} && command -v pip && python3 -c 'import sys; print(sys.prefix != sys.base_prefix)'"
    bindir = tmp_path / "bin"  # python3 here is the Python running the tests
    bindir.mkdir()
    (bindir / "python3").symlink_to(sys.executable)
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**env(), "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"})
    assert proc.returncode == 0, proc.stderr
    pip, in_venv = proc.stdout.split()
    assert Path(pip) == tmp_path / ".venv" / "bin" / "pip" and in_venv == "True"
