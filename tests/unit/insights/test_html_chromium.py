"""The HTML report opens in headless Chromium without console errors, and a screenshot is
taken. Skipped when chromium is missing, except under CI=true (`.ci/run` installs it)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from agent.insights import render_html, summarize
from tests.unit.insights.traffic import HOUR, Traffic


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is missing under CI=true; .ci/run installs it (apt-get install "
                    "chromium)")
    pytest.skip("chromium not installed (apt-get install chromium); HTML not checked in a "
                "browser")


def run_chromium(page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / f"profile-{len(list(tmp.iterdir()))}"
    return subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         *extra, page.as_uri()],
        capture_output=True, text=True, timeout=180, check=False, cwd=tmp)


def console_messages(stderr: str) -> list[str]:
    """Messages the page wrote to the console (errors, CSP violations, failed loads)."""
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def report(tmp: Path) -> Path:
    t = Traffic(11)
    t.brute_force("alice", "198.18.0.66", failures=50, at_ns=t.window_start + 10 * HOUR)
    t.spike("GET /api/orders <*> <*>", factor=20)
    t.silence("db-1", hours=3)
    t.new_template("kernel: EXT4-fs error (device <*>): <*>", "error",
                   at_ns=t.window_start + 5 * HOUR, count=12)
    page = tmp / "summary.html"
    page.write_text(render_html(summarize(t.build())), encoding="utf-8")
    return page


def test_html_report_opens_in_chromium_without_console_errors(tmp_path):
    """Chromium loads the page, writes a screenshot, and the page logs nothing to the
    console (no script error, no blocked load: it is self-contained)."""
    page = report(tmp_path)
    shot = tmp_path / "summary.png"
    done = run_chromium(page, tmp_path, "--window-size=1200,2400", f"--screenshot={shot}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert console_messages(done.stderr) == []
    assert png_size(shot) == (1200, 2400)
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
    print(f"screenshot: {shot}")


def test_chromium_dom_shows_the_report_content(tmp_path):
    """The DOM Chromium builds holds the report's sections and the attacker's address."""
    done = run_chromium(report(tmp_path), tmp_path, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    for text in ("sealtail summary", "Anomalies (", "possible brute-force success",
                 "198.18.0.66", "Top failing addresses", "<svg"):
        assert text in done.stdout


def test_console_check_catches_a_page_with_errors(tmp_path):
    """The console check is real: a page with a failing script is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><p>x</p><script>undefinedFunction()</script>")
    done = run_chromium(bad, tmp_path, "--dump-dom")
    assert any("undefinedFunction" in m for m in console_messages(done.stderr))
