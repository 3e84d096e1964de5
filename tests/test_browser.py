"""The circular in a real browser, offline: headless Chromium opens it over file://, the ranking
tables hold every unit, the page logs nothing to the console, and a screenshot is taken.

Chromium comes from the Debian package `chromium`. Missing locally: a loud warning and a skip.
Missing in CI (environment variable CI set): a failure, so CI cannot pass without looking.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest
import report_fixtures as fx
from report_fixtures import rendered_month  # noqa: F401  (shared session fixture)

from pipeline import fonts

CIRCULAR = "2020-03/月度排名通报_2020-03.html"
# Chromium's own noise (no D-Bus, no GPU in a container) is not the page's; console lines are.
CONSOLE = re.compile(r":(INFO|WARNING|ERROR):CONSOLE[:(]")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("headless Chromium is required in CI: apt-get install -y chromium")
    message = "\n" + "!" * 72 + "\n!! chromium not found: browser test SKIPPED (apt-get install -y chromium)\n" + "!" * 72
    warnings.warn(message, stacklevel=2)
    print(message)
    pytest.skip("chromium not installed")


def run_chromium(tmp_path: Path, page: Path, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
        f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
        # Nothing may come from the network: every host name resolves to nothing.
        "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1280,2000", *extra, page.resolve().as_uri(),
    ]
    env = {**os.environ, "FONTCONFIG_FILE": str(fonts.fontconfig_file(tmp_path / "fontconfig"))}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if CONSOLE.search(line)]


def test_console_errors_are_detected(tmp_path):
    """The check below would see a broken page (so a clean result means something)."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>console.error('boom'); missing();</script></body></html>")
    result = run_chromium(tmp_path, page, "--dump-dom")
    assert any("boom" in line for line in console_lines(result.stderr)), result.stderr[-2000:]


def test_circular_renders_in_chromium(rendered_month, tmp_path):
    page = rendered_month.reports / CIRCULAR
    result = run_chromium(tmp_path, page, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    tables = re.findall(r'<table class="report-table ranking">.*?</table>', dom, re.S)
    assert len(tables) == 2  # one per ranking group
    ranked = "".join(tables)
    for name in fx.UNITS["name"]:
        assert f"<td>{name}</td>" in ranked, name
    assert console_lines(result.stderr) == [], console_lines(result.stderr)

    shot = tmp_path / "circular.png"
    result = run_chromium(tmp_path, page, f"--screenshot={shot}")
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1280, 2000)
        assert len(image.convert("RGB").getcolors(1 << 20) or []) > 50  # not a blank page
    assert console_lines(result.stderr) == []
