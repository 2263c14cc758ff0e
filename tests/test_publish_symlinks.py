"""Linked flow files and folders: followed, each flow named by its path in the flows folder
(the link's own path, never its target), in validate, lint, build, serve, the MkDocs plugin
and verify; folders whose links loop do not hang any of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowdoc.load import discover
from flowdoc.publish import BuildSettings
from flowdoc.publish.serve import RELOAD_PATH, PreviewServer
from tests.helpers import FLOWS, MERMAID_JS, ROOT, SITE_CONFIG, change
from tests.helpers import http_get as get

BAD_FLOW = "id: bad\ntitle: Bad\nversion: \"1.0.0\"\nstates: [\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """flows/ with: a file, a link to a file outside, a link to a folder outside (which links
    back), a link to itself, and an editor's dangling lock link."""
    flows, elsewhere, shared = tmp_path / "flows", tmp_path / "elsewhere", tmp_path / "shared"
    for d in (flows, elsewhere, shared):
        d.mkdir()
    (flows / "silent-refresh-rotation.yaml").write_bytes((FLOWS / "silent-refresh-rotation.yaml").read_bytes())
    (elsewhere / "client-credentials.yaml").write_bytes((FLOWS / "client-credentials.yaml").read_bytes())
    (shared / "authorization-code-pkce.yaml").write_bytes((FLOWS / "authorization-code-pkce.yaml").read_bytes())
    (flows / "cc.yaml").symlink_to("../elsewhere/client-credentials.yaml")
    (flows / "shared").symlink_to("../shared")
    (shared / "back").symlink_to("../flows")  # flows/shared/back is flows again
    (flows / "loop").symlink_to(".")
    (flows / ".#cc.yaml").symlink_to("root@host.1234:1700000000")  # Emacs' lock file: dangling
    return tmp_path


LINKED = ["cc.yaml", "shared/authorization-code-pkce.yaml", "silent-refresh-rotation.yaml"]


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """flowdoc in a process of its own; the timeout is a hang guard (link loops)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "flowdoc", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_discover_names_files_by_their_link_path(tree):
    files, missing = discover([tree / "flows"])
    assert missing == []
    assert [f.relative_to(tree / "flows").as_posix() for f in files] == LINKED


def test_validate_follows_links_and_names_the_link(tree):
    r = cli(tree, "validate", "flows")
    assert r.returncode == 0 and "3 files checked, no problems" in r.stderr, r.stdout + r.stderr
    (tree / "elsewhere" / "bad.yaml").write_text(BAD_FLOW)
    (tree / "flows" / "bad.yaml").symlink_to("../elsewhere/bad.yaml")
    r = cli(tree, "validate", "flows")
    assert r.returncode == 2 and r.stdout.startswith("flows/bad.yaml:"), r.stdout
    assert "elsewhere" not in r.stdout + r.stderr and "Traceback" not in r.stderr


def test_lint_follows_links(tree):
    r = cli(tree, "lint", "flows")
    assert r.returncode == 0 and "3 files checked" in r.stderr, r.stdout + r.stderr
    (tree / "elsewhere" / "client-credentials.yaml").write_text(
        (FLOWS / "client-credentials.yaml").read_text().replace("title: Request an access token with the client credentials", "title: Send request", 1)
    )
    r = cli(tree, "lint", "flows")
    assert r.returncode == 1 and "flows/cc.yaml:" in r.stdout and "vague-label" in r.stdout, r.stdout
    assert "elsewhere" not in r.stdout


def test_build_of_a_flow_file_linked_from_outside(tmp_path):
    """The reported crash: `ValueError: ... is not in the subpath of ...`."""
    (tmp_path / "flows").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "client-credentials.yaml").write_bytes((FLOWS / "client-credentials.yaml").read_bytes())
    (tmp_path / "flows" / "cc.yaml").symlink_to("../elsewhere/client-credentials.yaml")
    assert cli(tmp_path, "validate", "flows").returncode == 0
    r = cli(tmp_path, "build", "--flows", "flows", "--out", "site", "--mermaid-js", str(MERMAID_JS))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and (tmp_path / "site/client-credentials/latest/index.html").is_file()


def test_build_follows_links_and_keys_the_cache_by_link_path(tree):
    args = ["build", "--flows", "flows", "--out", "site", "--config-file", str(SITE_CONFIG), "--mermaid-js", str(MERMAID_JS)]
    r = cli(tree, *args)
    assert r.returncode == 0, r.stderr
    for page in ("client-credentials/latest", "authorization-code-pkce/latest", "silent-refresh-rotation/latest"):
        assert (tree / "site" / page / "index.html").is_file(), page
    manifest = json.loads((tree / ".flowdoc-cache" / "site" / "manifest.json").read_text())
    assert sorted(manifest["files"]) == LINKED
    r = cli(tree, *args)
    assert r.returncode == 0 and " 0 built" in r.stdout, r.stdout
    # the target outside changes: the flow named by the link is rebuilt
    change(tree / "elsewhere" / "client-credentials.yaml", "title: Service-to-service", "title: Linked,")
    r = cli(tree, *args)
    assert r.returncode == 0 and "Linked," in (tree / "site/client-credentials/latest/index.html").read_text()
    # an invalid flow behind a link: exit 2, named by the link
    (tree / "elsewhere" / "bad.yaml").write_text(BAD_FLOW)
    (tree / "flows" / "bad.yaml").symlink_to("../elsewhere/bad.yaml")
    r = cli(tree, *args)
    assert r.returncode == 2 and f"{tree / 'flows' / 'bad.yaml'}:" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "is not in the subpath" not in r.stderr


def test_serve_follows_links_and_rebuilds_on_their_targets(tree):
    settings = BuildSettings(flows_dir=tree / "flows", out_dir=tree / "preview" / "site",
                             config_file=SITE_CONFIG, mermaid_js=str(MERMAID_JS))
    messages: list[str] = []
    server = PreviewServer(settings, port=0, interval=0.1, echo=messages.append).start()
    try:
        assert json.loads(get(server.url + RELOAD_PATH.lstrip("/"))[1]) == {"build": 1, "error": None}, messages
        assert get(server.url + "client-credentials/latest/")[0] == 200
        change(tree / "elsewhere" / "client-credentials.yaml", "title: Service-to-service", "title: Linked,")
        assert server.wait_for_build(2), messages
        assert "Linked," in get(server.url + "client-credentials/latest/")[1]
        change(tree / "shared" / "authorization-code-pkce.yaml", "title: Sign in", "title: Shared, sign in")
        assert server.wait_for_build(3), messages
        assert "Shared, sign in" in get(server.url + "authorization-code-pkce/latest/")[1]
        assert json.loads(get(server.url + RELOAD_PATH.lstrip("/"))[1])["error"] is None
    finally:
        server.stop()


def test_plugin_follows_links(tree):
    project = tree
    (project / "docs").mkdir()
    (project / "docs" / "index.md").write_text("# Home\n")
    (project / "mkdocs.yml").write_text(
        "site_name: Linked\ntheme:\n  name: mkdocs\n  highlightjs: false\n"
        f"plugins:\n  - flowdoc:\n      flows_dir: flows\n      mermaid_js: {MERMAID_JS}\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1"}
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build"], cwd=project, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (project / "site/flows/client-credentials/latest/index.html").is_file()
    assert (project / "site/flows/authorization-code-pkce/latest/index.html").is_file()
    # mkdocs serve also watches where the linked files really are
    from mkdocs.config import load_config

    cfg = load_config(str(project / "mkdocs.yml"))
    watched: list[tuple[str, bool]] = []

    class Server:
        def watch(self, path, recursive=True):
            watched.append((str(path), recursive))

    cfg.plugins["flowdoc"].on_serve(Server(), config=cfg, builder=lambda: None)
    assert watched == [(str(project / "flows"), True), (os.path.realpath(project / "elsewhere"), False),
                       (os.path.realpath(project / "shared"), False)]


def test_verify_finds_a_required_flow_through_a_linked_folder(tree):
    # only the refresh flow is named; the flow it requires is in flows/shared (a link to ../shared)
    r = cli(tree, "verify", "flows/silent-refresh-rotation.yaml", "--list")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "silent-refresh-rotation/happy-path" in r.stdout
    r = cli(tree, "verify", "flows", "--list")
    assert r.returncode == 0 and "client-credentials/happy-path" in r.stdout, r.stdout + r.stderr


def test_links_that_fan_out_and_loop_do_not_hang(tmp_path):
    """Each folder links twice to the next and once back to the top: walked once each."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "client-credentials.yaml").write_bytes((FLOWS / "client-credentials.yaml").read_bytes())
    depth = 30
    for i in range(depth):
        (tmp_path / f"d{i}").mkdir()
    for i in range(depth - 1):
        (tmp_path / f"d{i}" / "a").symlink_to(f"../d{i + 1}")
        (tmp_path / f"d{i}" / "b").symlink_to(f"../d{i + 1}")
        (tmp_path / f"d{i}" / "top").symlink_to("../flows")
    (flows / "deep").symlink_to("../d0")
    r = cli(tmp_path, "validate", "flows")
    assert r.returncode == 0 and "1 file checked" in r.stderr, r.stdout + r.stderr
