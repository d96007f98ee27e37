"""Templates: what masking merges and keeps apart, its cost on hostile lines, and the fast key."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.classify import Classifier, template_id
from agent.classify._classifier import FAST_KEYS_MAX
from agent.classify._template import (
    TEMPLATE_PREFIX_BYTES,
    fast_keys,
    mask,
    mask_many,
)
from agent.config import ClassifyConfig, Rule

# Pieces real lines are made of, plus the characters the patterns care about, so generated
# lines hit every pattern's edges (digits next to hex, quotes, '=', names after keywords).
PIECES = [
    "for ", "from ", "invalid user ", "Invalid user ", "for user ", "of user ", "user '",
    "sudo: ", "sudo[12]: ", " : ", "(to ", ") ", " on ", "user=", "ruser=", "USER=", "name=",
    "acct=\"", "rhost=", "PWD=/home/", "res=success", "res=failed", "root", "alice", "bob",
    "Account Name: ", "changed for ", "authenticating user ", "Mon ", "Dec ", "Jul  ", "May",
    "\"", "'", "#", "=", " ", "  ", "\t", "/", ".", ":", "-", "_", "0", "7", "42", "3.14",
    "10.0.0.1", "0x1f", "deadbeef", "fce8d09b", "a1b2", "http://", "x.org/p?q=1", "[", "]",
    ",", ";", "\\", "é", "\x00", "\r", "ab", "Z",
]
lines_st = st.lists(st.sampled_from(PIECES), max_size=30).map(lambda p: "".join(p).encode())


@settings(max_examples=400, deadline=None)
@given(lines_st)
def test_fast_key_masks_to_the_same_template_as_the_line(line: bytes) -> None:
    """mask(fast_key(line)) == mask(line): lines with one fast key share one template."""
    (key,) = fast_keys([line])
    assert key is not None
    assert mask(key) == mask(line)


@settings(max_examples=200, deadline=None)
@given(st.lists(lines_st, max_size=12))
def test_a_batch_masks_as_its_lines_do_one_by_one(lines: list[bytes]) -> None:
    """mask_many over a batch gives each line the template it has alone."""
    assert mask_many(lines) == [mask(line) for line in lines]
    assert fast_keys(lines) == [fast_keys([line])[0] for line in lines]


def _full_path(classifier: Classifier, line: bytes) -> object:
    """The label by the per-line full path (user rules, mask, cache, rules), no fast key."""
    label = classifier._lookup(line)
    assert not isinstance(label, bytes)
    return label


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(lines_st, min_size=1, max_size=20), min_size=1, max_size=4),
       st.booleans())
def test_fast_path_gives_every_line_the_full_paths_label(
        batches: list[list[bytes]], user_rules: bool) -> None:
    """label_many (fast keys, batch masking) labels each line as the full mask path does,
    and every label names its own line's template (so no two templates share a label)."""
    rules = [Rule(pattern="alice.*root", category="normal")] if user_rules else []
    fast = Classifier(ClassifyConfig(model=False, rules=rules))
    full = Classifier(ClassifyConfig(model=False, rules=rules))
    for batch in batches:
        labels = fast.label_many(batch)
        assert labels == [_full_path(full, line) for line in batch]
        assert [label.template_id for label in labels] == [
            template_id(mask(line)) for line in batch]


def test_long_lines_and_newlines_take_the_full_path_with_the_same_labels() -> None:
    """Lines over the template prefix or holding a newline get no fast key, and still a label."""
    long = b"Failed password for alice from 1.2.3.4 " + b"x" * (2 * TEMPLATE_PREFIX_BYTES)
    lines = [long, b"a\nb 12", b"ok 12"]
    assert fast_keys(lines)[:2] == [None, None]
    fast = Classifier(ClassifyConfig(model=False))
    full = Classifier(ClassifyConfig(model=False))
    assert fast.label_many(lines) == [_full_path(full, line) for line in lines]


def test_fast_key_map_stays_bounded_and_labels_stay_right(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Past FAST_KEYS_MAX keys the map is cleared, never grown; labels are unaffected."""
    monkeypatch.setattr("agent.classify._classifier.FAST_KEYS_MAX", 8)
    fast = Classifier(ClassifyConfig(model=False))
    full = Classifier(ClassifyConfig(model=False))
    lines = [f"event {chr(97 + i % 26)}{chr(97 + i // 26)} happened".encode() for i in range(60)]
    assert fast.label_many(lines) == [_full_path(full, line) for line in lines]
    assert len(fast._key_templates) <= 8
    assert FAST_KEYS_MAX >= 1024


# ---------------------------------------------------------------- what is merged, what is kept

SAME = [
    # a brute force with user names: one template, not one per name
    [b"sshd[1]: Failed password for invalid user alice from 10.0.0.1 port 22 ssh2",
     b"sshd[2]: Failed password for invalid user zq-x from 10.0.0.9 port 4022 ssh2"],
    [b"sshd[1]: Failed password for alice from 10.0.0.1 port 22 ssh2",
     b"sshd[1]: Failed password for bob from 10.0.0.1 port 22 ssh2"],
    [b"sshd[7]: Invalid user admin from 1.2.3.4", b"sshd[7]: Invalid user oracle from 1.2.3.4"],
    [b"sshd[7]: input_userauth_request: invalid user pi [preauth]",
     b"sshd[7]: input_userauth_request: invalid user guest [preauth]"],
    [b"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
     b"rhost=host.example.org  user=git",
     b"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
     b"rhost=other.example.com  user=ftp"],
    [b"sudo: alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
     b"sudo: bob : TTY=pts/3 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/id"],
    [b"systemd[1]: Started Session 5 of user alice.",
     b"systemd[1]: Started Session 9 of user bob."],
    [b"pam_unix(sshd:session): session opened for user alice by (uid=0)",
     b"pam_unix(sshd:session): session opened for user bob by (uid=0)"],
    [b"useradd[812]: new user: name=backup, UID=1002",
     b"useradd[813]: new user: name=web, UID=1003"],
    [b"usermod[1]: add 'alice' to group 'sudo'", b"usermod[1]: add 'bob' to group 'sudo'"],
    [b"su: FAILED SU (to root) alice on pts/0", b"su: FAILED SU (to root) bob on pts/1"],
    [b"chpasswd: password changed for alice", b"chpasswd: password changed for bob"],
    [b"type=USER_AUTH msg=audit(1.2:3): acct=\"alice\" exe=\"/usr/sbin/sshd\" res=failed",
     b"type=USER_AUTH msg=audit(4.5:6): acct=\"bob\" exe=\"/usr/sbin/sshd\" res=failed"],
    [b'10.0.0.5 - - "GET /api/v1/items/12 HTTP/1.1" 200 5 "-" "curl/8"',
     b'10.0.0.6 - - "POST /login?x=1 HTTP/2.0" 200 5 "-" "Mozilla/5.0 (X11)"'],
    [b"Dec 10 09:32:20 host sshd[1]: x", b"Jan  3 11:00:00 host sshd[1]: x"],
    [b"[Mon Dec 05 10:00:00 2005] [error] x", b"[Sun Dec 04 09:00:00 2005] [error] x"],
    [b"fetch https://example.org/a/b failed", b"fetch http://other.net/c?d=e failed"],
]

DIFFERENT = [
    [b"type=USER_LOGIN res=success", b"type=USER_LOGIN res=failed"],
    [b'apparmor="DENIED" operation="open"', b'apparmor="ALLOWED" operation="open"'],
    [b"Failed password for root from 1.2.3.4", b"Failed password for alice from 1.2.3.4"],
    [b"session opened for user root by (uid=0)", b"session opened for user alice by (uid=0)"],
    [b"su: (to root) alice on pts/0", b"su: (to bob) alice on pts/0"],
    [b"Accepted password for alice from 1.2.3.4", b"Failed password for alice from 1.2.3.4"],
    [b"check pass; user unknown", b"check pass; user known"],
    [b'exe="/usr/sbin/sshd" res=success', b'exe="/usr/bin/sudo" res=success'],
    [b"disk error on sda", b"disk error on sdb"],
]


@pytest.mark.parametrize("lines", SAME, ids=lambda ls: ls[0][:40].decode(errors="replace"))
def test_lines_differing_in_variable_values_share_a_template(lines: list[bytes]) -> None:
    """User, host and key=value names, quoted requests and dates do not split a template."""
    assert len(set(mask_many(lines))) == 1, mask_many(lines)


@pytest.mark.parametrize("lines", DIFFERENT, ids=lambda ls: ls[0][:40].decode(errors="replace"))
def test_lines_of_different_meaning_keep_different_templates(lines: list[bytes]) -> None:
    """Outcome words, root, programs and event wording stay in the template."""
    assert len(set(mask_many(lines))) == len(lines), mask_many(lines)


def test_a_brute_force_with_random_user_names_makes_one_template() -> None:
    """1 000 attempts with random digit-free user names give one template, not 1 000."""
    rng = random.Random(4)
    names = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz-_.") for _ in range(rng.randint(
        1, 12))) for _ in range(1000)]
    lines = [f"sshd[{rng.randint(1, 9999)}]: Failed password for invalid user {n} from "
             f"203.0.113.{rng.randint(1, 254)} port {rng.randint(1024, 65535)} ssh2".encode()
             for n in names]
    assert len(set(mask_many(lines))) == 1


# ---------------------------------------------------------------- linear on hostile input

HOSTILE: list[Callable[[int], bytes]] = [
    lambda n: b"a." * (n // 2),
    lambda n: b"a+" * (n // 2),
    lambda n: b"a" * n,
    lambda n: b"1" * n,
    lambda n: b"for " * (n // 4),
    lambda n: b"for x" * (n // 5),
    lambda n: b"user " * (n // 5),
    lambda n: b"invalid user " * (n // 13),
    lambda n: b"user=" * (n // 5),
    lambda n: b"=" * n,
    lambda n: b'"' * n,
    lambda n: b'"#' * (n // 2),
    lambda n: b'"' + b"a" * n,
    lambda n: b"'#" + b"a" * n,
    lambda n: b"(to " * (n // 4),
    lambda n: b"(to x) " * (n // 7),
    lambda n: b"sudo: " * (n // 6),
    lambda n: b"sudo: x" * (n // 7),
    lambda n: b"Mon " * (n // 4),
    lambda n: b"Dec  " * (n // 5),
    lambda n: b"http://" * (n // 7),
    lambda n: b"a://" * (n // 4),
    lambda n: b"x-" * (n // 2),
    lambda n: b"Account Name: " * (n // 14),
]


def _best_time(fn: Callable[[], object], repeats: int = 7) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("make", HOSTILE, ids=lambda f: f(24)[:12].decode())
def test_masking_time_grows_linearly_on_pathological_lines(make: Callable[[int], bytes]) -> None:
    """Masking a 4x longer hostile line (8 -> 32 KiB, no prefix cut) costs < 8x, not ~16x."""
    n = 8 * 1024
    small, big = make(n), make(4 * n)
    t_small = _best_time(lambda: mask(small, limit=len(small)))
    t_big = _best_time(lambda: mask(big, limit=len(big)))
    # Linear gives ~4; quadratic ~16. The floor keeps timer noise on tiny times out.
    assert t_big / max(t_small, 1e-4) < 8, (t_small, t_big)


def test_batches_longer_than_one_join_slice_mask_as_their_lines(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches are masked and keyed JOIN_LINES lines at a time; slices change no result."""
    monkeypatch.setattr("agent.classify._template.JOIN_LINES", 7)
    rng = random.Random(9)
    lines = ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 25))).encode()
             for _ in range(50)] + [b"x" * (TEMPLATE_PREFIX_BYTES + 5), b"a\nb"]
    rng.shuffle(lines)
    assert mask_many(lines) == [mask(line) for line in lines]
    assert fast_keys(lines) == [fast_keys([line])[0] for line in lines]
