"""Authentication attempts are read from the real shapes of sshd, PAM, su and sudo lines."""

from __future__ import annotations

import pytest

from agent.insights import Attempt, auth_attempt, parse_attempt

HOST = b"Mar 27 13:06:56 ip-10-77-20-248 "

FAILURES = [
    (b"sshd[1291]: Failed password for root from 116.31.116.5 port 56870 ssh2",
     "root", "116.31.116.5"),
    (b"sshd[1291]: Failed password for invalid user admin from 85.245.107.41 port 54866 ssh2",
     "admin", "85.245.107.41"),
    (b"sshd[1291]: Failed password for invalid user  from 195.154.45.62 port 39380 ssh2",
     "", "195.154.45.62"),
    (b"sshd[8080]: Failed publickey for git from 2001:db8::7 port 2200 ssh2",
     "git", "2001:db8::7"),
    (b"sshd[1291]: message repeated 5 times: [ Failed password for root from 116.31.116.5 "
     b"port 56870 ssh2]", "root", "116.31.116.5"),
    (b"sshd[1291]: Invalid user pi from 181.25.206.27", "pi", "181.25.206.27"),
    (b"sshd[1291]: Invalid user test from 10.0.0.9 port 50022", "test", "10.0.0.9"),
    (b"su[4242]: pam_unix(su:auth): authentication failure; logname=alice uid=1000 euid=0 "
     b"tty=/dev/pts/0 ruser=alice rhost=  user=root", "root", ""),
    (b"login[77]: pam_unix(login:auth): authentication failure; logname=LOGIN uid=0 euid=0 "
     b"tty=tty1 ruser= rhost=203.0.113.4  user=carol", "carol", "203.0.113.4"),
    (b"su: FAILED SU (to root) alice on pts/0", "root", ""),
    (b"sudo:    alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; "
     b"USER=root ; COMMAND=/bin/ls", "alice", ""),
]

SUCCESSES = [
    (b"sshd[1291]: Accepted password for elastic_user_0 from 24.151.103.17 port 51024 ssh2",
     "elastic_user_0", "24.151.103.17"),
    (b"sshd[1291]: Accepted publickey for ubuntu from 24.151.103.17 port 52590 ssh2: RSA "
     b"SHA256:Kl8kPGZrTiz7g4FO1hyqHdsSBBb5Fge6NCOobtNNXJg", "ubuntu", "24.151.103.17"),
    (b"su[2121]: Successful su for root by ubuntu", "root", ""),
    (b"su[2121]: pam_unix(su:session): session opened for user root by ubuntu(uid=0)",
     "root", ""),
    (b"login[77]: pam_unix(login:session): session opened for user carol by LOGIN(uid=0)",
     "carol", ""),
]

NO_ATTEMPT = [
    b"sshd[1291]: Disconnecting: Too many authentication failures [preauth]",
    b"sshd[1291]: pam_unix(sshd:auth): check pass; user unknown",
    b"sshd[1291]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
    b"ruser= rhost=116.31.116.5  user=root",
    b"sshd[1291]: PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= "
    b"rhost=116.31.116.5  user=root",
    b"sshd[1291]: pam_unix(sshd:session): session opened for user ubuntu by (uid=0)",
    b"CRON[3300]: pam_unix(cron:session): session opened for user root by (uid=0)",
    b"systemd: pam_unix(systemd-user:session): session opened for user ubuntu by (uid=0)",
    b"sshd[1291]: pam_unix(sshd:session): session closed for user ubuntu",
    b"sshd[1291]: Server listening on 0.0.0.0 port 22.",
]


@pytest.mark.parametrize(("line", "user", "address"), FAILURES)
def test_failure_shapes_give_user_and_address(line: bytes, user: str, address: str) -> None:
    """Each failure shape yields a failure naming exactly the user and address it has."""
    assert parse_attempt(HOST + line) == Attempt("failure", user, address)


@pytest.mark.parametrize(("line", "user", "address"), SUCCESSES)
def test_success_shapes_give_user_and_address(line: bytes, user: str, address: str) -> None:
    """Each success shape yields a success naming the user (and the address where present)."""
    assert parse_attempt(HOST + line) == Attempt("success", user, address)


@pytest.mark.parametrize("line", NO_ATTEMPT)
def test_lines_that_record_no_separate_attempt_give_none(line: bytes) -> None:
    """Summaries, duplicates of sshd's own line and machine sessions are not attempts."""
    assert parse_attempt(HOST + line) is None


def test_only_lines_sealed_as_failed_login_or_login_are_read() -> None:
    """The category gates extraction: the same words in a 'normal' line give no event."""
    line = HOST + FAILURES[0][0]
    assert auth_attempt("failed_login", line) == Attempt("failure", "root", "116.31.116.5")
    assert auth_attempt("normal", line) is None


def test_outcome_comes_from_the_line_not_the_category() -> None:
    """A failure line sealed as login still counts as the failure it records."""
    attempt = auth_attempt("login", HOST + FAILURES[1][0])
    assert attempt is not None and attempt.outcome == "failure"


def test_invalid_utf8_and_huge_fields_are_decoded_and_cut() -> None:
    """Fields are text (replacement characters) of at most 128 characters."""
    attempt = parse_attempt(b"sshd[1]: Invalid user \xff" + b"x" * 500 + b" from 1.2.3.4")
    assert attempt is not None
    assert attempt.user.startswith("\ufffd") and len(attempt.user) == 128
