"""Config files and key files: clear errors naming the file, the key and the rule."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent import config as cfg
from agent.errors import ConfigError, ErrorCode, KeyFileError
from agent.keys import generate_key_file, load_authorized_keys, load_signing_key


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text)
    return path


def test_unknown_key_names_file_and_key_path(tmp_path: Path) -> None:
    path = write(tmp_path, "[tail]\npaths = ['/x']\nmax_line_byte = 3\n")
    with pytest.raises(ConfigError, match=r"agent.toml: tail.max_line_byte: unknown key"):
        cfg.load(cfg.AgentConfig, path)


def test_wrong_type_names_expected_type_and_value(tmp_path: Path) -> None:
    path = write(tmp_path, "[seal]\nmax_segment_bytes = \"1M\"\n")
    with pytest.raises(ConfigError, match=r"seal.max_segment_bytes: expected int, got '1M'"):
        cfg.load(cfg.AgentConfig, path)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="agent.toml: not valid TOML"):
        cfg.load(cfg.AgentConfig, write(tmp_path, "[tail\n"))


def test_bad_rule_regex_names_the_rule(tmp_path: Path) -> None:
    path = write(tmp_path, "[[classify.rules]]\npattern = '('\ncategory = 'error'\n")
    conf = cfg.load(cfg.AgentConfig, path)
    conf = cfg.merge_overrides(conf, {"agent.name": "a", "agent.collector": "h:1",
                                      "agent.key": "k", "agent.state_dir": "s",
                                      "tail.paths": ["/x"]})
    with pytest.raises(ConfigError, match=r"classify.rules\[0\].pattern: invalid regular"):
        conf.check(str(path))


def test_missing_required_setting_is_named() -> None:
    with pytest.raises(ConfigError, match="agent.collector: is required"):
        cfg.merge_overrides(cfg.AgentConfig(), {"agent.name": "a"}).check()


def test_flags_override_file_values(tmp_path: Path) -> None:
    path = write(tmp_path, "[agent]\nname = 'from-file'\n[tail]\npaths = ['/a']\n")
    conf = cfg.merge_overrides(cfg.load(cfg.AgentConfig, path), {"agent.name": "from-flag",
                                                                 "tail.paths": None})
    assert conf.agent.name == "from-flag" and conf.tail.paths == ["/a"]


def test_keygen_writes_private_key_0600_and_public_line(tmp_path: Path) -> None:
    key = generate_key_file(tmp_path / "a.key")
    assert os.stat(tmp_path / "a.key").st_mode & 0o777 == 0o600
    pub = (tmp_path / "a.key.pub").read_text()
    assert pub.startswith("sealtail-ed25519 ") and pub.count("\n") == 1
    assert load_signing_key(tmp_path / "a.key") == key
    assert load_authorized_keys(tmp_path / "a.key.pub") == {bytes(key.verify_key)}


def test_keygen_refuses_to_overwrite(tmp_path: Path) -> None:
    generate_key_file(tmp_path / "a.key")
    with pytest.raises(KeyFileError, match="already exists"):
        generate_key_file(tmp_path / "a.key")


def test_private_key_readable_by_others_is_refused_naming_the_file(tmp_path: Path) -> None:
    generate_key_file(tmp_path / "a.key")
    os.chmod(tmp_path / "a.key", 0o644)
    with pytest.raises(KeyFileError, match=r"a.key: private key is accessible") as info:
        load_signing_key(tmp_path / "a.key")
    assert info.value.code == ErrorCode.KEY_FILE_PERMISSIONS


def test_bad_line_in_authorized_keys_is_named_with_its_line_number(tmp_path: Path) -> None:
    generate_key_file(tmp_path / "a.key")
    path = tmp_path / "auth"
    path.write_text((tmp_path / "a.key.pub").read_text() + "# comment\n\nssh-rsa AAAA x\n")
    with pytest.raises(KeyFileError, match=r"auth:4: not a sealtail public key"):
        load_authorized_keys(path)


def test_collector_listens_on_loopback_unless_configured() -> None:
    """Nothing is exposed beyond 127.0.0.1 by default."""
    assert cfg.CollectorSection().listen.startswith("127.0.0.1:")
