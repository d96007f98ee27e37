"""Search speed over a store of the Loghub OpenSSH sample: the collector's search (filters on
the signed bytes) against a baseline measured in the same run, the plain SQL over the index
columns the search used before (which an edited index could mislead).

The sample (2,000 lines) is stored REPEAT times in segments of 500 lines, labelled by a few
OpenSSH patterns. Each query is timed over the whole result (best of 3), in this process.

Usage: python scripts/bench_search.py [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nacl.signing  # noqa: E402

from agent._pb import sealtail_pb2 as pb  # noqa: E402
from agent.formats import (  # noqa: E402
    ZERO_HASH,
    build_header,
    encode_entry,
    segment_hash,
    sign_header,
    verify_segment,
)
from agent.records import Cursor, FileIdentity, Label, RawLine  # noqa: E402
from agent.store import SearchFilter, SQLiteStore  # noqa: E402

SAMPLE = Path("/work/shared/data/loghub/OpenSSH/OpenSSH_2k.log")
PER_SEGMENT = 500


def label(line: bytes) -> str:
    if b"Failed password" in line or b"authentication failure" in line:
        return "failed_login"
    if b"Accepted" in line:
        return "login"
    if b"POSSIBLE BREAK-IN" in line:
        return "security_alert"
    if b"error" in line.lower():
        return "error"
    return "normal"


def build(data: Path, repeat: int, t0: int) -> int:
    lines = SAMPLE.read_bytes().replace(b"\r\n", b"\n").splitlines()
    key = nacl.signing.SigningKey(bytes(range(32)))
    store = SQLiteStore(data)
    all_lines = [ln for _ in range(repeat) for ln in lines]

    async def fill() -> None:
        prev, before, offset = ZERO_HASH, 0, 0
        for seq, start in enumerate(range(0, len(all_lines), PER_SEGMENT)):
            chunk = all_lines[start:start + PER_SEGMENT]
            entries = []
            for i, line in enumerate(chunk):
                entries.append(encode_entry(RawLine(line, offset, t0 + (start + i) * 10**6), 0,
                                            Label(label(line), 1, 1.0)))
                offset += len(line) + 1
            header = build_header(
                agent_name="host-a", agent_key=bytes(key.verify_key), boot_id=b"b" * 16,
                seq=seq, prev_hash=prev, entries=entries, t_first_ns=t0 + start * 10**6,
                t_last_ns=t0 + (start + len(chunk) - 1) * 10**6,
                sources=[Cursor("/var/log/auth.log", FileIdentity(1, 2, b"\0" * 32, 0),
                                offset)], lines_before=before)
            result = await store.append(verify_segment(header, sign_header(key, header),
                                                       entries))
            assert result.status == pb.ACK_STORED, result
            prev, before = segment_hash(header), before + len(entries)

    asyncio.run(fill())
    store.close()
    return len(all_lines)


def baseline(store: SQLiteStore, flt: SearchFilter) -> int:
    """The search before: WHERE on the index columns, the line checked only for --contains."""
    where, args = ["1"], []
    if flt.category:
        where.append("e.category = ?")
        args.append(flt.category)
    if flt.since_ns:
        where.append("e.time_ns >= ?")
        args.append(flt.since_ns)
    if flt.contains:
        where.append("instr(e.entry, ?) > 0")
        args.append(flt.contains)
    sql = ("SELECT e.segment_id, a.name, a.key, s.seq, e.idx, e.source, e.entry FROM entries e"
           " JOIN segments s ON s.id = e.segment_id JOIN agents a ON a.id = s.agent_id"
           f" WHERE {' AND '.join(where)} ORDER BY e.segment_id, e.idx")
    n = 0
    with store.reader() as conn:
        for row in conn.execute(sql, args):
            if flt.contains and flt.contains not in pb.Entry.FromString(row[6]).line:
                continue
            n += 1
    return n


def signed(store: SQLiteStore, flt: SearchFilter) -> int:
    n, after = 0, (0, -1)
    while True:
        page = store.search_page(flt, after, 1000)
        if page.done:
            return n
        assert not page.mismatches
        n += len(page.rows)
        after = page.after


def best(fn: object, *args: object) -> tuple[float, int]:
    times, result = [], 0
    for _ in range(3):
        start = time.perf_counter()
        result = fn(*args)  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()
    if not SAMPLE.exists():
        print(f"{SAMPLE}: not found", file=sys.stderr)
        return 2
    t0 = time.time_ns() - 10**15
    with tempfile.TemporaryDirectory() as tmp:
        total = build(Path(tmp), args.repeat, t0)
        store = SQLiteStore(Path(tmp), readonly=True)
        print(f"store: {total} lines of {SAMPLE.name} x{args.repeat}, "
              f"{PER_SEGMENT} per segment")
        queries = {
            "--category failed_login": SearchFilter(category="failed_login"),
            "--category security_alert": SearchFilter(category="security_alert"),
            "--contains 'Invalid user'": SearchFilter(contains=b"Invalid user"),
            "--since (last 10% of lines)": SearchFilter(since_ns=t0 + total * 9 // 10 * 10**6),
            "(no filter)": SearchFilter(),
        }
        print(f"{'query':32} {'matches':>8} {'baseline s':>11} {'signed s':>9} {'ratio':>6}")
        for name, flt in queries.items():
            t_base, n_base = best(baseline, store, flt)
            t_new, n_new = best(signed, store, flt)
            assert n_base == n_new, (name, n_base, n_new)
            print(f"{name:32} {n_new:8} {t_base:11.3f} {t_new:9.3f} {t_new / t_base:6.2f}")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
