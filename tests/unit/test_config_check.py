"""`sealtail config check FILE`: exit 0 for a valid file, 2 with a message naming the file,
the key, the value and what is allowed — one test per kind of error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.cli import main
from agent.keys import generate_key_file
from tests.conftest import REPO


def _check(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["config", "check", str(path)])
    return result.exit_code, result.output


@pytest.fixture
def agent_file(tmp_path: Path) -> Path:
    """A valid agent file whose key exists."""
    key = tmp_path / "agent.key"
    generate_key_file(key)
    path = tmp_path / "agent.toml"
    path.write_text(f'[agent]\nname = "web-17"\ncollector = "127.0.0.1:7600"\nkey = "{key}"\n'
                    f'state_dir = "{tmp_path / "state"}"\n[tail]\npaths = ["/var/log/*.log"]\n')
    return path


def _edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


def test_valid_agent_file_passes(agent_file: Path) -> None:
    """A complete agent file with a usable key exits 0 and says what it is."""
    code, out = _check(agent_file)
    assert (code, out) == (0, f"{agent_file}: valid agent config\n")


def test_valid_collector_file_passes(tmp_path: Path) -> None:
    """A collector file is recognised by its [collector] table."""
    keys = tmp_path / "authorized_keys"
    keys.write_text("")
    path = tmp_path / "collector.toml"
    path.write_text(f'[collector]\ndata_dir = "{tmp_path}"\nauthorized_keys = "{keys}"\n')
    assert _check(path) == (0, f"{path}: valid collector config\n")


def test_example_agent_config_passes_once_its_files_exist(tmp_path: Path) -> None:
    """config/agent.toml is valid apart from the paths of this machine."""
    key = tmp_path / "agent.key"
    generate_key_file(key)
    text = (REPO / "config" / "agent.toml").read_text()
    text = text.replace("/etc/sealtail/agent.key", str(key))
    text = text.replace('collector_key = "/etc/sealtail/collector.vkey"', "")
    text = text.replace('"/var/lib/sealtail"', f'"{tmp_path / "state"}"')
    path = tmp_path / "agent.toml"
    path.write_text(text)
    assert _check(path)[0] == 0, _check(path)


def test_unknown_key_is_named_with_the_allowed_keys(agent_file: Path) -> None:
    """A misspelt key names the file, the dotted key and the keys allowed in its table."""
    _edit(agent_file, "[tail]\n", "[tail]\npoll_intervall_ms = 100\n")
    code, out = _check(agent_file)
    assert code == 2
    assert f"{agent_file}: tail.poll_intervall_ms: unknown key (allowed here:" in out
    assert "poll_interval_ms" in out


def test_wrong_type_names_the_key_the_value_and_the_type(agent_file: Path) -> None:
    """A string where an integer belongs: file, key, the value given, the type expected."""
    _edit(agent_file, "[tail]\n", '[tail]\nmax_line_bytes = "1M"\n')
    code, out = _check(agent_file)
    assert code == 2
    assert f"{agent_file}: tail.max_line_bytes: expected int, got '1M'" in out


def test_wrong_table_type_is_refused(agent_file: Path) -> None:
    """`agent = 3` where a table belongs."""
    agent_file.write_text('agent = 3\n[tail]\npaths = ["/x/*.log"]\n')
    code, out = _check(agent_file)
    assert code == 2
    assert f"{agent_file}: agent: expected a table, got 3" in out


def test_out_of_range_value_says_what_is_allowed(agent_file: Path) -> None:
    """Values are checked, not only types."""
    _edit(agent_file, "[tail]\n", '[tail]\nread_from = "middle"\n')
    code, out = _check(agent_file)
    assert code == 2
    assert "tail.read_from: expected \"beginning\" or \"end\", got 'middle'" in out


def test_missing_file_is_named(tmp_path: Path) -> None:
    """A config file that does not exist."""
    code, out = _check(tmp_path / "nope.toml")
    assert code == 2
    assert f"{tmp_path / 'nope.toml'}: file not found" in out


def test_unreadable_key_file_is_named_with_its_path(agent_file: Path, tmp_path: Path) -> None:
    """A key readable by others is refused at start-up, so config check refuses it too
    (tests run as root, where mode 000 would not stop a read; a world-readable key is the
    unreadable-for-us case that matters)."""
    os.chmod(tmp_path / "agent.key", 0o644)
    code, out = _check(agent_file)
    assert code == 2
    assert f"{agent_file}: agent.key: '{tmp_path / 'agent.key'}':" in out
    assert "chmod 600" in out or "readable by" in out


def test_missing_key_file_is_named(agent_file: Path, tmp_path: Path) -> None:
    """agent.key points nowhere."""
    (tmp_path / "agent.key").unlink()
    code, out = _check(agent_file)
    assert code == 2
    assert f"{agent_file}: agent.key: '{tmp_path / 'agent.key'}': key file not found" in out


def test_key_path_that_is_a_directory_cannot_be_read(agent_file: Path, tmp_path: Path) -> None:
    """An unreadable key path (a directory: unreadable even for root)."""
    (tmp_path / "agent.key").unlink()
    (tmp_path / "agent.key").mkdir()
    code, out = _check(agent_file)
    assert code == 2
    assert f"{agent_file}: agent.key: '{tmp_path / 'agent.key'}': cannot read key file" in out


@pytest.mark.parametrize(("glob", "why"), [
    ("/var/log/[abc.log", "unbalanced [ ]"),
    ("/var/log/a**.log", "** must be a whole path component"),
    ("", "an empty glob matches nothing"),
])
def test_bad_glob_is_named_with_why(agent_file: Path, glob: str, why: str) -> None:
    """Globs that would silently match nothing or something else."""
    _edit(agent_file, '"/var/log/*.log"', f'"/var/log/*.log", "{glob}"')
    code, out = _check(agent_file)
    assert code == 2
    assert f"{agent_file}: tail.paths[1]: bad glob {glob!r}: {why}" in out


def test_non_utf8_file_is_refused_with_the_offset(tmp_path: Path) -> None:
    """TOML is UTF-8; a Latin-1 file is a config error, not a traceback."""
    path = tmp_path / "agent.toml"
    path.write_bytes(b'[agent]\nname = "caf\xe9"\n')
    code, out = _check(path)
    assert code == 2
    assert f"{path}: not UTF-8 (TOML files must be): byte 0xe9 at offset 19" in out


def test_invalid_toml_is_refused(tmp_path: Path) -> None:
    """A syntax error names the line."""
    path = tmp_path / "agent.toml"
    path.write_text("[agent\nname = 1\n")
    code, out = _check(path)
    assert code == 2
    assert f"{path}: not valid TOML:" in out and "line 1" in out


def test_a_file_that_is_neither_agent_nor_collector_is_refused(tmp_path: Path) -> None:
    """No known table: say which tables make which kind."""
    path = tmp_path / "x.toml"
    path.write_text("[client]\ncollector = \"127.0.0.1:7600\"\n")
    code, out = _check(path)
    assert code == 2
    assert "neither an agent file" in out


def test_bad_log_format_is_refused(agent_file: Path) -> None:
    """ops.log_format takes keyvalue or json."""
    agent_file.write_text(agent_file.read_text() + '[ops]\nlog_format = "xml"\n')
    code, out = _check(agent_file)
    assert code == 2
    assert "ops.log_format: expected one of keyvalue, json, got 'xml'" in out


def test_a_state_dir_that_is_a_file_is_refused(agent_file: Path) -> None:
    """state_dir = a regular file (/etc/passwd): refused by config check, not at start-up."""
    code, out = _check(_edit(agent_file, f'state_dir = "{agent_file.parent / "state"}"',
                             'state_dir = "/etc/passwd"'))
    assert code == 2 and "agent.state_dir" in out and "/etc/passwd is not a directory" in out


def test_a_read_only_state_dir_is_refused(agent_file: Path, read_only_dir: Path) -> None:
    """A state directory that cannot be written is named by config check."""
    code, out = _check(_edit(agent_file, f'state_dir = "{agent_file.parent / "state"}"',
                             f'state_dir = "{read_only_dir / "state"}"'))
    assert code == 2 and "agent.state_dir" in out and str(read_only_dir) in out
