"""Text output is safe for a terminal; JSON keeps everything."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.cli import escape_line, terminal_line
from agent.errors import KeyFileError
from agent.keys import generate_key_file, load_signing_key


def test_text_output_shows_terminal_controls_as_escapes() -> None:
    """Escape sequences, \\r and NUL in a log line cannot drive the terminal."""
    line = b"esc \x1b[31mRED\x1b]0;title\x07 \r forged\0 tab\tend \xff"
    shown = terminal_line(line)
    assert "\x1b" not in shown and "\r" not in shown and "\0" not in shown and "\x07" not in shown
    assert shown == "esc \\x1b[31mRED\\x1b]0;title\\x07 \\x0d forged\\x00 tab\tend \\xff"


def test_json_line_keeps_controls_as_they_are() -> None:
    assert escape_line(b"a\x1bb\r") == "a\x1bb\r"  # json.dumps escapes them itself


def test_giving_the_public_key_file_as_the_private_key_says_so(tmp_path: Path) -> None:
    generate_key_file(tmp_path / "agent.key")
    with pytest.raises(KeyFileError, match=r"agent.key.pub: this is a public key"):
        load_signing_key(tmp_path / "agent.key.pub", check_permissions=False)
