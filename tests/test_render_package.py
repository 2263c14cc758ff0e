"""The page templates ship inside a non-editable install (a wheel), not only in the checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    # copy the package and the templates, keeping flowdoc/render/templates a link as in git
    shutil.copytree(ROOT / "flowdoc", src / "flowdoc", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(ROOT / "templates", src / "templates")
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "-w", str(out), "--no-deps", "-q"],
        capture_output=True, text=True, timeout=600,
    )
    if proc.returncode != 0 and any(w in proc.stderr for w in ("NewConnectionError", "No matching distribution")):
        pytest.skip(f"pip cannot fetch the build backend: {proc.stderr.strip().splitlines()[-1]}")
    assert proc.returncode == 0, proc.stderr
    [whl] = out.glob("flowdoc-*.whl")
    return whl


def test_wheel_lists_every_template(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = sorted(p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*.j2"))
    assert "page.md.j2" in templates
    for t in templates:
        assert f"flowdoc/render/templates/{t}" in names
    assert "flowdoc/escape/__init__.py" in names and "flowdoc/escape/markdown.py" in names
    assert "flowdoc/render/page.py" in names
    # the site's assets: flowdoc's script and stylesheet, and Mermaid with its licence (offline sites)
    for asset in ("data/site/flowdoc.js", "data/site/flowdoc.css", "data/mermaid/mermaid.min.js", "data/mermaid/LICENSE"):
        assert f"flowdoc/{asset}" in names, asset
    assert wheel.stat().st_size < 3_000_000  # Mermaid is about 1 MB of it, compressed


def test_installed_package_renders_pages_without_the_checkout(wheel, tmp_path):
    target = tmp_path / "site-packages"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(target)
    assert not (target / "templates").exists()
    code = (
        "import flowdoc, flowdoc.render.page as p, sys;"
        "assert str(p.default_templates_dir()).startswith(sys.argv[1]), p.default_templates_dir();"
        "f = flowdoc.load_flow(sys.argv[2]);"
        "md = flowdoc.render.render_page(f);"
        "assert md.startswith('# ') and '```mermaid' in md and '## Steps' in md;"
        "print('ok')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(target), str(ROOT / "flows" / "client-credentials.yaml")],
        capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
