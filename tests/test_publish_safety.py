"""flowdoc build and its output folder: never lose files it did not make, never write into the
flows folder, sweep what killed builds left, and a cache that cannot poison a build."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowdoc.publish import BuildSettings, PublishError, build_site
from flowdoc.publish.output import MARKER
from tests.helpers import FLOWS, MERMAID_JS, ROOT, SITE_CONFIG, leftovers, run, snapshot

FEW = ("client-credentials.yaml", "gateway-login.yaml", "mfa-step-up.yaml")


def few_flows(dest: Path) -> Path:
    """Three independent example flows (a small, quick site)."""
    dest.mkdir(parents=True)
    for name in FEW:
        (dest / name).write_bytes((FLOWS / name).read_bytes())
    return dest


def build_args(flows: Path, out: Path, *extra: str) -> list[str]:
    return ["build", "--flows", str(flows), "--out", str(out), "--config-file", str(SITE_CONFIG),
            "--mermaid-js", str(MERMAID_JS), *extra]


def quick(tmp_path: Path, flows: Path, **kw) -> BuildSettings:
    kw.setdefault("config_file", SITE_CONFIG)
    kw.setdefault("mermaid_js", str(MERMAID_JS))
    return BuildSettings(flows_dir=flows, out_dir=tmp_path / "out" / "site", **kw)


# ------------------------------------------------------- 1. files not ours


def test_out_folder_flowdoc_did_not_build_is_refused(tmp_path):
    flows = few_flows(tmp_path / "flows")
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "thesis.txt").write_text("three years of work\n")
    (out / "figures").mkdir()
    (out / "figures" / "plot.svg").write_text("<svg/>")
    before = snapshot(out)
    r = run(*build_args(flows, out))
    assert r.exit_code == 2, r.output
    assert "was not built by flowdoc" in r.stderr and MARKER in r.stderr and "--force" in r.stderr
    assert "Traceback" not in r.stderr
    assert snapshot(out) == before  # nothing lost, nothing added
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flows", "thesis"]  # no cache, no temporary folder

    # an empty folder may be used; the site carries the marker and is rebuilt without --force
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(*build_args(flows, empty)).exit_code == 0
    assert (empty / MARKER).is_file() and (empty / "index.html").is_file()
    assert "flowdoc" in (empty / MARKER).read_text()
    (flows / "gateway-login.yaml").unlink()
    r = run(*build_args(flows, empty))
    assert r.exit_code == 0 and not (empty / "gateway-login").exists() and (empty / MARKER).is_file()

    # a site whose marker was removed is no longer ours
    (empty / MARKER).unlink()
    r = run(*build_args(flows, empty))
    assert r.exit_code == 2 and "was not built by flowdoc" in r.stderr

    # --force replaces the folder, and the new site is ours
    r = run(*build_args(flows, out, "--force"))
    assert r.exit_code == 0, r.stderr
    assert not (out / "thesis.txt").exists() and (out / MARKER).is_file() and (out / "index.html").is_file()
    assert leftovers(out) == []


def test_serve_refuses_a_folder_flowdoc_did_not_build(tmp_path):
    flows = few_flows(tmp_path / "flows")
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "thesis.txt").write_text("three years of work\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    r = subprocess.run(  # a serve that did not refuse would run until the hang guard stops it
        [sys.executable, "-m", "flowdoc", "serve", "--port", "0", "--flows", str(flows), "--out", str(out),
         "--config-file", str(SITE_CONFIG)],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert r.returncode == 2 and "was not built by flowdoc" in r.stderr and "--force" not in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert [p.name for p in out.iterdir()] == ["thesis.txt"]


# ------------------------------------------------- 2. out in the flows folder


@pytest.mark.parametrize("spelling", ["flows/site", "./flows/site", "flows/../flows/site", "ABS", "link/site", "flows"])
def test_out_in_the_flows_folder_is_refused_in_every_spelling(tmp_path, monkeypatch, spelling):
    flows = few_flows(tmp_path / "flows")
    (tmp_path / "link").symlink_to("flows")
    monkeypatch.chdir(tmp_path)
    out = str(flows / "site") if spelling == "ABS" else spelling
    before = snapshot(flows)
    r = run("build", "--flows", "flows", "--out", out, "--config-file", str(SITE_CONFIG))
    assert r.exit_code == 2, r.output
    assert "flows folder" in r.stderr or "would replace" in r.stderr, r.stderr
    assert snapshot(flows) == before and sorted(os.listdir(flows)) == sorted(FEW)  # no cache, no mkdocs.yml
    r = run("validate", "flows")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("spelling", ["flows/cache", "./link/cache"])
def test_cache_in_the_flows_folder_is_refused(tmp_path, monkeypatch, spelling):
    flows = few_flows(tmp_path / "flows")
    (tmp_path / "link").symlink_to("flows")
    monkeypatch.chdir(tmp_path)
    r = run("build", "--flows", "flows", "--out", "site", "--cache-dir", spelling)
    assert r.exit_code == 2 and "inside the flows folder" in r.stderr, r.stderr
    assert sorted(os.listdir(flows)) == sorted(FEW) and not Path("site").exists()


def test_cache_folder_of_other_files_is_refused(tmp_path):
    flows = few_flows(tmp_path / "flows")
    mine = tmp_path / "mine"
    (mine / "docs").mkdir(parents=True)
    (mine / "docs" / "notes.md").write_text("my notes\n")
    s = quick(tmp_path, flows, cache_dir=mine)
    with pytest.raises(PublishError, match="not a flowdoc build cache"):
        build_site(s)
    assert (mine / "docs" / "notes.md").read_text() == "my notes\n"


# --------------------------------------------- 3. and 5. killed builds, the lock

HOOK = '''
import os, pathlib, time

def on_post_build(config, **kwargs):
    ctl = os.environ.get("FLOWDOC_TEST_PAUSE")
    if not ctl:
        return
    ctl = pathlib.Path(ctl)
    (ctl / "started").write_text(config.site_dir)
    end = time.monotonic() + 120
    while not (ctl / "go").exists() and time.monotonic() < end:
        time.sleep(0.05)
'''


def paused_project(tmp_path: Path) -> Path:
    """The example MkDocs project with a hook that can hold a build inside MkDocs."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "docs").mkdir()
    (project / "docs" / "introduction.md").write_text("# Introduction\n")
    (project / "hooks.py").write_text(HOOK)
    (project / "mkdocs.yml").write_text(
        "site_name: Flows\ntheme:\n  name: mkdocs\n  highlightjs: false\nhooks:\n  - hooks.py\n"
    )
    return project / "mkdocs.yml"


def start_build(flows: Path, out: Path, config: Path, ctl: Path | None, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    env.pop("FLOWDOC_TEST_PAUSE", None)
    if ctl is not None:
        ctl.mkdir(exist_ok=True)
        env["FLOWDOC_TEST_PAUSE"] = str(ctl)
    return subprocess.Popen(
        [sys.executable, "-m", "flowdoc", "build", "--flows", str(flows), "--out", str(out),
         "--config-file", str(config), "--mermaid-js", str(MERMAID_JS), *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("force", [False, True])
def test_killed_build_leftovers_swept_and_deleted_flow_not_published(tmp_path, force):
    flows = few_flows(tmp_path / "flows")
    config = paused_project(tmp_path)
    out = tmp_path / "out" / "site"
    first = start_build(flows, out, config, None)
    assert first.wait(timeout=300) == 0, first.communicate()
    assert (out / "mfa-step-up/latest/index.html").is_file()

    # a flow changes, and the build is killed inside MkDocs
    (flows / "client-credentials.yaml").write_text(
        (flows / "client-credentials.yaml").read_text().replace("title: Service-to-service", "title: Changed,", 1)
    )
    ctl = tmp_path / "ctl"
    killed = start_build(flows, out, config, ctl)
    wait_for(ctl / "started", killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    left = leftovers(out)
    assert len(left) == 1 and left[0].startswith(".site.tmp-"), left

    # a flow is deleted; the next build removes the leftover and does not publish the deleted flow
    (flows / "mfa-step-up.yaml").unlink()
    again = start_build(flows, out, config, None, *(["--force"] if force else []))
    assert again.wait(timeout=300) == 0, again.communicate()
    assert leftovers(out) == []
    assert not (out / "mfa-step-up").exists()
    assert "mfa-step-up" not in (out / "index.html").read_text()
    assert "Changed," in (out / "client-credentials/latest/index.html").read_text()
    staged = out.parent / ".flowdoc-cache" / "site" / "docs"
    assert not (staged / "mfa-step-up").exists()


def blocked_flock_waiters() -> set[int]:
    """Pids waiting for an flock (the '->' lines of /proc/locks)."""
    pids = set()
    for line in Path("/proc/locks").read_text().splitlines():
        parts = line.split()
        if len(parts) > 4 and parts[1] == "->" and parts[2] == "FLOCK":
            pids.add(int(parts[5]))
    return pids


@pytest.mark.skipif(not Path("/proc/locks").is_file(), reason="needs Linux /proc/locks to see a blocked build")
def test_sweep_never_removes_the_temporary_folder_of_a_running_build(tmp_path):
    import fcntl

    flows = few_flows(tmp_path / "flows")
    config = paused_project(tmp_path)
    out = tmp_path / "out" / "site"
    ctl = tmp_path / "ctl"
    running = start_build(flows, out, config, ctl)
    second = None
    try:
        wait_for(ctl / "started", running)
        tmp = Path((ctl / "started").read_text())
        assert tmp.is_dir() and tmp.name.startswith(".site.tmp-")
        # the running build holds the lock of the output's folder
        fd = os.open(out.parent, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        # a second build into the same output (another cache) waits for that lock, before its sweep
        second = start_build(flows, out, config, None, "--cache-dir", str(tmp_path / "other-cache"))
        end = time.monotonic() + 120
        while second.pid not in blocked_flock_waiters():
            assert second.poll() is None, second.communicate()
            assert time.monotonic() < end, "the second build never waited for the lock"
            time.sleep(0.05)
        assert tmp.is_dir()  # not swept
        (ctl / "go").write_text("")
        assert running.wait(timeout=300) == 0, running.communicate()
        assert second.wait(timeout=300) == 0, second.communicate()
        assert leftovers(out) == [] and (out / "index.html").is_file() and (out / MARKER).is_file()
    finally:
        (ctl / "go").write_text("")
        for p in (running, second):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait(timeout=30)


# ----------------------------------------------------- 5. a poisoned cache


def staged(s: BuildSettings) -> Path:
    return s.cache_path / "docs"


def manifest(s: BuildSettings) -> dict:
    return json.loads((s.cache_path / "manifest.json").read_text())


def save_manifest(s: BuildSettings, data: dict) -> None:
    (s.cache_path / "manifest.json").write_text(json.dumps(data))


def edit(flows: Path, name: str = "gateway-login.yaml") -> None:
    """A change that makes MkDocs run (one flow's title)."""
    f = flows / name
    f.write_text(f.read_text().replace("title: ", "title: Edited, ", 1))


def test_stray_staged_page_is_removed_and_never_published(tmp_path):
    flows = few_flows(tmp_path / "flows")
    s = quick(tmp_path, flows, strict=True)
    build_site(s)
    # a page of a flow that no longer exists, with a link that fails a strict build
    ghost = staged(s) / "ghost" / "latest.md"
    ghost.parent.mkdir()
    ghost.write_text("# Ghost\n\nSee [nowhere](missing.md).\n")
    (staged(s) / "ghost.md").symlink_to(tmp_path / "flows" / "client-credentials.yaml")
    edit(flows)
    r = build_site(s)
    assert r.mkdocs_ran and not (s.out_dir / "ghost").exists()
    assert not ghost.parent.exists() and not (staged(s) / "ghost.md").is_symlink()
    s.force = True
    assert build_site(s).pages_reused == 0


def test_poisoned_page_and_manifest_do_not_fail_the_build(tmp_path):
    flows = few_flows(tmp_path / "flows")
    s = quick(tmp_path, flows, strict=True)
    clean = build_site(s)
    total = clean.pages_built
    page = staged(s) / "client-credentials" / "latest.md"
    good_html = (s.out_dir / "client-credentials/latest/index.html").read_text()

    # a staged page broken behind the manifest's back: caught by its hash, rebuilt from nothing
    page.write_text("# Broken\n\n[x](nowhere.md)\n")
    edit(flows)
    r = build_site(s)
    assert r.mkdocs_ran and r.cache_reset and "client-credentials/latest.md" in r.cache_reset
    assert r.pages_reused == 0 and r.pages_built == total
    assert "Broken" not in (s.out_dir / "client-credentials/latest/index.html").read_text()

    # the page and the manifest poisoned together: MkDocs fails, the build is run again from nothing
    import hashlib

    bad = b"# Poison\n\n[x](nowhere.md)\n"
    page.write_bytes(bad)
    m = manifest(s)
    h = hashlib.sha256(bad).hexdigest()
    m["staged"]["client-credentials/latest.md"] = h
    m["ids"]["client-credentials"]["pages"]["client-credentials/latest.md"] = h
    save_manifest(s, m)
    edit(flows, "mfa-step-up.yaml")
    r = build_site(s)
    assert r.cache_reset and "MkDocs failed" in r.cache_reset
    html = (s.out_dir / "client-credentials/latest/index.html").read_text()
    assert "Poison" not in html and html == good_html

    # a poison that does not fail the build: --force ignores the cache entirely
    page.write_bytes(b"# Poison that builds\n")
    m = manifest(s)
    h = hashlib.sha256(b"# Poison that builds\n").hexdigest()
    m["staged"]["client-credentials/latest.md"] = h
    m["ids"]["client-credentials"]["pages"]["client-credentials/latest.md"] = h
    m["site_key"] = ""
    save_manifest(s, m)
    s.force = True
    r = build_site(s)
    assert (r.pages_built, r.pages_reused, r.mkdocs_ran) == (total, 0, True)
    assert "Poison" not in (s.out_dir / "client-credentials/latest/index.html").read_text()


@pytest.mark.parametrize(
    "poison",
    [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"format": 1, "complete": True, "ids": [], "staged": "x"}),
        "TRAVERSAL",
    ],
)
def test_malformed_manifest_is_ignored(tmp_path, poison):
    flows = few_flows(tmp_path / "flows")
    s = quick(tmp_path, flows)
    first = build_site(s)
    victim = tmp_path / "victim.md"
    victim.write_text("keep me\n")
    if poison == "TRAVERSAL":  # page paths that leave the staged folder
        m = manifest(s)
        rel = os.path.relpath(victim, staged(s))
        m["staged"][rel] = "0" * 64
        m["ids"]["client-credentials"]["pages"][rel] = "0" * 64
        poison = json.dumps(m)
    (s.cache_path / "manifest.json").write_text(poison)
    (flows / "mfa-step-up.yaml").unlink()
    r = build_site(s)
    assert r.pages_built == first.pages_built - 3 and r.mkdocs_ran  # a full build, without mfa-step-up
    assert victim.read_text() == "keep me\n"
    assert not (s.out_dir / "mfa-step-up").exists()


def test_staged_link_is_never_written_through(tmp_path):
    flows = few_flows(tmp_path / "flows")
    s = quick(tmp_path, flows)
    build_site(s)
    victim = tmp_path / "victim.md"
    victim.write_text("keep me\n")
    page = staged(s) / "client-credentials" / "latest.md"
    page.unlink()
    page.symlink_to(victim)
    (flows / "client-credentials.yaml").write_text(
        (flows / "client-credentials.yaml").read_text().replace("title: Service-to-service", "title: Changed,", 1)
    )
    build_site(s)
    assert victim.read_text() == "keep me\n"
    assert not page.is_symlink() and "Changed," in page.read_text()


def test_force_on_the_cli_after_a_poisoned_cache(tmp_path):
    flows = few_flows(tmp_path / "flows")
    out = tmp_path / "out" / "site"
    assert run(*build_args(flows, out)).exit_code == 0
    cache = out.parent / ".flowdoc-cache" / "site"
    # a staged page changed behind the cache's back: said, and built from nothing
    (cache / "docs" / "client-credentials" / "latest.md").write_text("# Tampered\n")
    edit(flows)
    r = run(*build_args(flows, out))
    assert r.exit_code == 0 and "it was cleared and the site built from nothing" in r.stderr, r.stderr
    assert "Tampered" not in (out / "client-credentials/latest/index.html").read_text()
    (cache / "docs" / "ghost.md").write_text("# Ghost page\n")
    (cache / "manifest.json").write_text("{")
    r = run(*build_args(flows, out, "--force"))
    assert r.exit_code == 0 and "10 pages of 3 flows: 10 built, 0 reused; site built by MkDocs" in r.stdout, r.stdout
    assert not (out / "ghost").exists() and not (cache / "docs" / "ghost.md").exists()
