"""Authentication attempts read from single log lines: who, from where, failed or succeeded.

Pure functions over the line bytes (no state, no I/O). Only lines sealed as `failed_login` or
`login` are read (`auth_attempt`); the outcome comes from what the line says, not from the
category, so a line the classifier mislabelled still counts for what it is.

One event per line that records an attempt or a session a person opened:

- sshd `Failed <method> for [invalid user ]USER from ADDR port N` (also inside
  `message repeated N times: [ ... ]`, counted once), `Invalid user USER from ADDR`,
  `Accepted <method> for USER from ADDR port N`;
- PAM `authentication failure; ... rhost=ADDR user=USER` of any service but sshd (sshd logs
  its own `Failed ...` line for the same attempt) and PAM `session opened for user USER` of
  any service but sshd (its `Accepted` line says more), cron and systemd-user (not a person
  logging in);
- su `FAILED SU (to USER) WHO on TTY`, `Successful su for USER by WHO`; sudo
  `WHO : N incorrect password attempts` (USER is the account whose password was tried: the
  target for su, the caller for sudo, the account named by ssh).

Lines of those categories that name no attempt (`Disconnecting: Too many authentication
failures`, `session closed`, `PAM 2 more authentication failures`, ...) give no event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["failure", "success"]
AUTH_CATEGORIES = frozenset({"failed_login", "login"})
MAX_FIELD_CHARS = 128  # a user or address longer than this is cut (hostile lines)


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one line says about an authentication: outcome, user and address ('' = absent)."""

    outcome: Outcome
    user: str
    address: str


_ADDR = rb"(?P<addr>[0-9A-Fa-f:.]+|[\w.-]+)"
_USER = rb"(?P<user>\S*)"
# (outcome, a literal the line must hold, pattern): the literal is a cheap test first.
_PATTERNS: tuple[tuple[Outcome, bytes, re.Pattern[bytes]], ...] = (
    ("failure", b"Failed ", re.compile(
        rb"\bFailed (?:password|publickey|none|keyboard-interactive(?:/pam)?|hostbased|"
        rb"gssapi-with-mic) for (?:invalid user )?" + _USER + rb" from " + _ADDR + rb" port ")),
    ("failure", b"Invalid user ", re.compile(
        rb"\bInvalid user " + _USER + rb" from " + _ADDR + rb"(?: port |$|\s)")),
    ("success", b"Accepted ", re.compile(
        rb"\bAccepted (?:password|publickey|keyboard-interactive(?:/pam)?|hostbased|"
        rb"gssapi-with-mic) for " + _USER + rb" from " + _ADDR + rb" port ")),
    ("failure", b"FAILED SU", re.compile(rb"\bFAILED SU \(to (?P<user>[^)\s]*)\)")),
    ("success", b"Successful su", re.compile(rb"\bSuccessful su for " + _USER + rb" by ")),
    ("failure", b"incorrect password", re.compile(
        rb"\bsudo(?:\[\d+\])?: +(?P<user>\S+) : \d+ incorrect password attempts?")),
)
_PAM_FAILURE = re.compile(rb"\bpam_\w+\((?P<service>[^:)]+):auth\): authentication failure;")
_PAM_SESSION = re.compile(rb"\bpam_\w+\((?P<service>[^:)]+):session\): session opened for user "
                          rb"(?P<user>[^\s(]+)")
_RHOST = re.compile(rb"\brhost=(?P<addr>\S*)")
_PAM_USER = re.compile(rb"\buser=(?P<user>\S+)")
_PAM_SKIP_FAILURE = frozenset({b"sshd"})
_PAM_SKIP_SESSION = frozenset({b"sshd", b"cron", b"systemd-user"})


def _text(value: bytes) -> str:
    return value[:MAX_FIELD_CHARS].decode("utf-8", "replace")


def parse_attempt(line: bytes) -> Attempt | None:
    """The authentication attempt `line` records, or None when it records none."""
    for outcome, literal, pattern in _PATTERNS:
        if literal not in line:
            continue
        m = pattern.search(line)
        if m is not None:
            groups = m.groupdict()
            return Attempt(outcome, _text(groups.get("user") or b""),
                           _text(groups.get("addr") or b""))
    m = _PAM_FAILURE.search(line) if b"authentication failure" in line else None
    if m is not None:
        if m["service"] in _PAM_SKIP_FAILURE:
            return None
        rhost = _RHOST.search(line)
        user = _PAM_USER.search(line)
        return Attempt("failure", _text(user["user"]) if user else "",
                       _text(rhost["addr"]) if rhost else "")
    m = _PAM_SESSION.search(line) if b"session opened" in line else None
    if m is not None and m["service"] not in _PAM_SKIP_SESSION:
        return Attempt("success", _text(m["user"]), "")
    return None


def auth_attempt(category: str, line: bytes) -> Attempt | None:
    """`parse_attempt` for lines sealed as failed_login or login; None for other categories."""
    if category not in AUTH_CATEGORIES:
        return None
    return parse_attempt(line)
