"""Names and files from outside are checked before they are trusted or printed: agent
names, the authorized keys file's mode, and the process `sealtail reload --pid` signals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent._pb import sealtail_pb2 as pb
from agent.cli import main, terminal_text
from agent.config import agent_name_problem
from agent.errors import ErrorCode, KeyFileError
from agent.formats import build_header, encode_entry, sign_header
from agent.keys import generate_key_file, load_authorized_keys
from agent.records import Label, RawLine
from tests.unit.ship.test_refusals import serving
from tests.unit.spool.test_spool import KEY, PUB


@pytest.mark.parametrize("name", ["web-17", "a", "host.example_1", "x" * 64])
def test_plain_agent_names_are_accepted(name: str) -> None:
    assert agent_name_problem(name) is None


@pytest.mark.parametrize("name", ["", "evil\nOK: forged", "tab\there", "x" * 65, "a b",
                                  "rtl\u202eevil", "caf\u00e9"])
def test_agent_names_with_controls_spaces_or_beyond_64_chars_are_refused(name: str) -> None:
    problem = agent_name_problem(name)
    assert problem is not None and "A-Z a-z 0-9 . _ -" in problem


def test_config_refuses_an_agent_name_with_a_newline(tmp_path: Path) -> None:
    """The error names the key and shows the name escaped."""
    key = tmp_path / "agent.key"
    generate_key_file(key)
    path = tmp_path / "agent.toml"
    path.write_text(f'[agent]\nname = "web\\nOK: forged"\ncollector = "127.0.0.1:7600"\n'
                    f'key = "{key}"\nstate_dir = "{tmp_path / "s"}"\n[tail]\npaths = ["/x"]\n')
    result = CliRunner().invoke(main, ["config", "check", str(path)])
    assert result.exit_code == 2
    assert "agent.name" in result.output and "'web\\nOK: forged'" in result.output


async def test_the_collector_refuses_a_segment_whose_agent_name_has_a_newline(
        tmp_path: Path) -> None:
    """Ingest refuses it with bad_agent_name (an authorized key, a valid signature)."""
    entries = (encode_entry(RawLine(b"x", 0, 1), 0, Label("normal", 1, 1.0)),)
    header = build_header(agent_name="evil\nname", agent_key=PUB, boot_id=b"b" * 16, seq=0,
                          prev_hash=bytes(32), entries=entries, t_first_ns=1, t_last_ns=1,
                          sources=[], lines_before=0)
    segment = pb.Segment(header=header, signature=sign_header(KEY, header), entries=entries)
    async with serving(tmp_path, frozenset({PUB})) as (address, store):
        import grpc

        from agent._pb import sealtail_pb2_grpc as pb_grpc

        async with grpc.aio.insecure_channel(address) as channel:
            acks = [a async for a in pb_grpc.IngestStub(channel).Ship(iter([segment]))]
        assert store.log.size == 0
    assert acks[0].status == pb.ACK_REFUSED and acks[0].code == ErrorCode.BAD_AGENT_NAME


def test_names_printed_as_text_show_controls_and_bidi_characters_escaped() -> None:
    shown = terminal_text("a\nOK\r\x1b[1m\u202eb\u2066")
    assert shown == "a\\x0aOK\\x0d\\x1b[1m\\u202eb\\u2066"


@pytest.mark.parametrize("mode", [0o666, 0o620, 0o602])
def test_an_authorized_keys_file_writable_by_group_or_others_is_refused(
        tmp_path: Path, mode: int) -> None:
    """Like sshd's StrictModes: whoever can write the file could authorize a key."""
    generate_key_file(tmp_path / "a.key")
    path = tmp_path / "authorized_keys"
    path.write_text((tmp_path / "a.key.pub").read_text())
    path.chmod(mode)
    with pytest.raises(KeyFileError, match="writable by group or others") as info:
        load_authorized_keys(path)
    assert info.value.code == ErrorCode.KEY_FILE_PERMISSIONS
    path.chmod(0o644)  # readable by all is fine: public keys
    assert len(load_authorized_keys(path)) == 1


def test_reload_pid_refuses_a_process_that_is_not_a_sealtail_agent() -> None:
    """`sealtail reload --pid` of a `sleep` (or of init) signals nothing: it stays alive."""
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        result = CliRunner().invoke(main, ["reload", "--pid", str(sleeper.pid)])
        assert result.exit_code == 2 and "is not a sealtail agent" in result.output
        assert sleeper.poll() is None
        result = CliRunner().invoke(main, ["reload", "--pid", "1"])
        assert result.exit_code == 2 and "pid 1 is not a sealtail agent" in result.output
    finally:
        sleeper.kill()
        sleeper.wait()


def test_reload_pid_accepts_a_sealtail_agent_command_line(tmp_path: Path) -> None:
    """A process whose command line is `sealtail agent ...` passes the check."""
    import time

    from agent.ops import agent_pid_problem

    script = tmp_path / "sealtail"
    script.write_text("import time\ntime.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, str(script), "agent", "--state", "s"])
    try:
        deadline = time.monotonic() + 10
        while (not Path(f"/proc/{proc.pid}/cmdline").read_bytes().count(b"agent")
               and time.monotonic() < deadline):
            time.sleep(0.05)  # until the child has exec'd
        assert agent_pid_problem(proc.pid) is None
    finally:
        proc.kill()
        proc.wait()


def test_verify_reports_print_an_old_stored_name_with_controls_on_one_line() -> None:
    """A name stored before names were checked cannot forge a line of verify's report."""
    from agent.verify._verify import printable_name

    assert printable_name("web-17") == "web-17"
    assert printable_name("evil\x1b[31m\nFAKE OK") == "evil\\x1b[31m\\nFAKE OK"
    assert "\u202e" not in printable_name("a\u202eb")
