"""The systemd units: notify + watchdog, restart, dedicated user, hardening; systemd-analyze
verify accepts them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import TailConfig
from tests.conftest import REPO

UNITS = ["sealtail-agent.service", "sealtail-collector.service"]
SYSTEMD_ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"


def _service(unit: str) -> dict[str, list[str]]:
    """[Service] settings; a key given twice keeps every value, in order."""
    out: dict[str, list[str]] = {}
    section = ""
    for raw in (REPO / "systemd" / unit).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]":
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value)
    return out


@pytest.mark.parametrize("unit", UNITS)
def test_unit_is_notify_with_watchdog_restart_and_a_dedicated_user(unit: str) -> None:
    """Readiness and liveness come from the process itself; failures restart it."""
    s = _service(unit)
    assert s["Type"] == ["notify"]
    assert s["NotifyAccess"] == ["main"]
    assert s["WatchdogSec"][0].endswith("s")
    assert s["Restart"] == ["on-failure"]
    assert s["User"] == ["sealtail"] and s["Group"] == ["sealtail"]
    assert s["StateDirectory"][0].startswith("sealtail")


@pytest.mark.parametrize("unit", UNITS)
def test_unit_is_hardened(unit: str) -> None:
    """Read-only system, no capabilities, the @system-service syscall set."""
    s = _service(unit)
    expected = {"ProtectSystem": "strict", "ProtectHome": "yes", "NoNewPrivileges": "yes",
                "PrivateTmp": "yes", "CapabilityBoundingSet": "",
                "SystemCallArchitectures": "native"}
    for key, value in expected.items():
        assert s[key] == [value], key
    assert "@system-service" in s["SystemCallFilter"]
    assert "/etc/sealtail" in s["ReadOnlyPaths"][0].split()
    # StateDirectory= is the only writable path; nothing else is opened for writing.
    assert "ReadWritePaths" not in s


def test_agent_unit_allows_more_descriptors_than_tail_max_open_files() -> None:
    """Every file tail.max_open_files allows can be open, plus sockets and spool files."""
    limit = int(_service("sealtail-agent.service")["LimitNOFILE"][0])
    assert limit >= TailConfig().max_open_files + 1024
    assert "/var/log" in _service("sealtail-agent.service")["ReadOnlyPaths"][0].split()


@pytest.mark.skipif(not Path(SYSTEMD_ANALYZE).exists(), reason="systemd-analyze not installed")
@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify_accepts_the_unit(unit: str, tmp_path: Path) -> None:
    """`systemd-analyze verify` finds no error. It needs ExecStart's binary to exist, so the
    test verifies a copy pointing at this environment's `sealtail` (everything else as
    shipped)."""
    binary = Path(sys.executable).with_name("sealtail")
    assert binary.exists(), binary
    text = (REPO / "systemd" / unit).read_text()
    assert "ExecStart=/usr/local/bin/sealtail " in text
    copy = tmp_path / unit
    copy.write_text(text.replace("/usr/local/bin/sealtail", str(binary)))
    proc = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", str(copy)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "sealtail" not in proc.stderr, proc.stderr  # no warning about our unit either


def test_sysusers_file_creates_the_user_the_units_run_as() -> None:
    """The dedicated user exists once systemd-sysusers has read the shipped file."""
    lines = [ln.split() for ln in (REPO / "systemd" / "sealtail.sysusers.conf").read_text()
             .splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines[0][:2] == ["u", "sealtail"]
