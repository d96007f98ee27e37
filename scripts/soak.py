"""`make soak`: agent + collector under writes and faults, then count every line.

Writes numbered lines to a log file at --rate lines/s (rotating by rename every
--rotate-lines) while, every few seconds at random, one fault strikes: SIGKILL of the agent,
SIGKILL of the collector, SIGTERM + restart of the agent, a network cut (all connections
reset) or a half-open network (a proxy that stops forwarding for a few seconds), or a longer
collector outage. At the end the writer stops, everything is healed, and the collector's
content is compared with what was written: lost and duplicated lines are counted, and
`sealtail verify` must pass. Exit 1 on any loss, duplicate or verification failure.

--outage SECS instead runs one collector outage of SECS at --rate with no other fault and
reports the agent's worst resident memory (VmHWM) and how far reading got (backpressure).

Usage: python scripts/soak.py [--duration 600] [--rate 2000] [--seed 1]
       python scripts/soak.py --outage 300 --rate 20000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent._pb import sealtail_pb2 as pb  # noqa: E402
from agent._pb import sealtail_pb2_grpc as pb_grpc  # noqa: E402
from tests.netproxy import TcpProxy  # noqa: E402

SEALTAIL = [sys.executable, "-m", "agent"]
LINE = "soak seq=%010d pad=0123456789abcdefghijklmnopqrstuvwxyz user=alice action=write\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Proc:
    def __init__(self, name: str, args: list[str], log: Path) -> None:
        self.name, self.args, self.log = name, args, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as f:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=subprocess.DEVNULL,
                                         stderr=f)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def rss_kib(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) in KiB."""
        assert self.proc is not None
        fields = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.split()[0] if value.split() else "0"
        return int(fields.get("VmRSS", 0)), int(fields.get("VmHWM", 0))


class Writer(threading.Thread):
    def __init__(self, logs: Path, rate: int, rotate_lines: int) -> None:
        super().__init__(daemon=True)
        self.logs, self.rate, self.rotate_lines = logs, rate, rotate_lines
        self.written = 0
        self.stop = threading.Event()

    def run(self) -> None:
        path = self.logs / "app.log"
        f = open(path, "ab")  # noqa: SIM115 - rotated below
        started = time.monotonic()
        generation = 0
        try:
            while not self.stop.is_set():
                due = int((time.monotonic() - started) * self.rate)
                if due <= self.written:
                    time.sleep(0.01)
                    continue
                n = min(due - self.written, 50_000)
                f.write("".join(LINE % (self.written + i) for i in range(n)).encode())
                f.flush()
                self.written += n
                if self.rotate_lines and self.written // self.rotate_lines > generation:
                    generation += 1
                    f.close()
                    os.rename(path, self.logs / f"app.log.{generation}")  # kept: no loss
                    f = open(path, "ab")  # noqa: SIM115
        finally:
            f.close()


def stored(data_dir: Path) -> Counter[int]:
    """How many times each seq number is stored, read from the stopped collector's store
    (a Search over millions of lines through gRPC takes longer than the soak itself)."""
    counts: Counter[int] = Counter()
    conn = sqlite3.connect(f"file:{data_dir / 'sealtail.db'}?mode=ro", uri=True)
    try:
        for (entry,) in conn.execute("SELECT entry FROM entries"):
            counts[int(pb.Entry.FromString(entry).line[9:19])] += 1
    finally:
        conn.close()
    return counts


def stored_count(address: str) -> int:
    try:
        with grpc.insecure_channel(address) as channel:
            reply = pb_grpc.QueryStub(channel).Agents(pb.AgentsRequest(), timeout=5)
        return sum(a.entries for a in reply.agents)
    except grpc.RpcError:
        return -1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=600, help="seconds of writes and faults")
    ap.add_argument("--rate", type=int, default=2000, help="lines per second written")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fault-every", type=float, default=8.0, help="mean seconds between faults")
    ap.add_argument("--rotate-lines", type=int, default=200_000)
    ap.add_argument("--outage", type=float, default=0,
                    help="instead: one collector outage of this many seconds; report memory")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ns = ap.parse_args()
    rng = random.Random(ns.seed)
    work = Path(tempfile.mkdtemp(prefix="sealtail-soak-"))
    logs = work / "logs"
    logs.mkdir()
    key = work / "agent.key"
    subprocess.run([*SEALTAIL, "keygen", "--out", str(key)], check=True, capture_output=True,
                   cwd=ROOT)
    (work / "auth").write_text(Path(f"{key}.pub").read_text())
    (work / "agent.toml").write_text(
        "[tail]\npoll_interval_ms = 100\n[ship]\nbackoff_initial_ms = 100\n"
        "backoff_max_ms = 2000\nkeepalive_time_ms = 1000\nkeepalive_timeout_ms = 2000\n"
        "ack_timeout_secs = 20.0\nshutdown_grace_secs = 3.0\n")
    port = free_port()
    address = f"127.0.0.1:{port}"
    collector = Proc("collector", [*SEALTAIL, "collector", "--listen", address, "--data",
                                   str(work / "data"), "--authorized-keys", str(work / "auth"),
                                   "--log-level", "WARNING"], work / "collector.log")
    proxy = TcpProxy(port)
    agent = Proc("agent", [*SEALTAIL, "agent", "--collector", proxy.address, "--key", str(key),
                           "--state", str(work / "state"), "--name", "soak", "--config",
                           str(work / "agent.toml"), "--log-level", "WARNING",
                           str(logs / "app.log*")], work / "agent.log")
    collector.start()
    time.sleep(1.5)
    agent.start()
    writer = Writer(logs, ns.rate, ns.rotate_lines)
    writer.start()
    faults: Counter[str] = Counter()
    print(f"soak in {work}: {ns.rate} lines/s, "
          + (f"one {ns.outage:.0f} s collector outage" if ns.outage else
             f"{ns.duration:.0f} s, a fault every ~{ns.fault_every:g} s"), flush=True)
    started = time.monotonic()
    try:
        if ns.outage:
            run_outage(ns, agent, collector, writer, work)
        else:
            while time.monotonic() - started < ns.duration:
                time.sleep(rng.expovariate(1 / ns.fault_every))
                faults[strike(rng, agent, collector, proxy)] += 1
                if len(faults) and sum(faults.values()) % 10 == 0:
                    print(f"  {time.monotonic() - started:5.0f}s: {writer.written} lines "
                          f"written, {stored_count(address)} stored, faults {dict(faults)}",
                          flush=True)
        writer.stop.set()
        writer.join()
        # Heal everything, then wait for the collector to hold every line.
        proxy.thaw()
        for p in (collector, agent):
            if not p.alive():
                p.start()
        deadline, last = time.monotonic() + 300, -1
        while (count := stored_count(address)) < writer.written:
            if count != last:
                deadline, last = time.monotonic() + 120, count
            if time.monotonic() > deadline:
                print(f"no progress for 120 s at {count} of {writer.written} lines")
                break
            time.sleep(1)
        time.sleep(2)
        verify = subprocess.run([*SEALTAIL, "verify", "--collector", address],
                                capture_output=True, text=True, cwd=ROOT)
        agent.signal(signal.SIGTERM)
        collector.signal(signal.SIGTERM)
        counts = stored(work / "data")
        lost = sum(1 for i in range(writer.written) if counts.get(i, 0) == 0)
        duplicated = sum(c - 1 for c in counts.values() if c > 1)
        extra = sum(1 for i in counts if i >= writer.written)
        print(f"lines written {writer.written}, received {sum(counts.values())} "
              f"({len(counts)} distinct), lost {lost}, duplicated {duplicated}, unknown {extra}")
        if not ns.outage:
            print(f"faults: {dict(sorted(faults.items()))}")
        print(f"verify: exit {verify.returncode}: {(verify.stdout or verify.stderr).strip()}")
        ok = lost == 0 and duplicated == 0 and extra == 0 and verify.returncode == 0
        return 0 if ok else 1
    finally:
        writer.stop.set()
        for p in (agent, collector):
            if p.alive():
                p.signal(signal.SIGTERM)
        proxy.close()
        if not ns.keep:
            subprocess.run(["rm", "-rf", str(work)], check=False)


def strike(rng: random.Random, agent: Proc, collector: Proc, proxy: TcpProxy) -> str:
    """One random fault, healed before returning (outages last a few seconds)."""
    fault = rng.choice(["kill_agent", "kill_agent", "kill_collector", "kill_collector",
                        "term_agent", "cut_network", "half_open", "collector_outage"])
    if fault == "kill_agent":
        agent.signal(signal.SIGKILL)
        time.sleep(rng.uniform(0, 2))
        agent.start()
    elif fault == "term_agent":
        code = agent.signal(signal.SIGTERM)
        if code != 0:
            print(f"  agent exited {code} on SIGTERM", flush=True)
            fault = "term_agent_nonzero"
        agent.start()
    elif fault == "kill_collector":
        collector.signal(signal.SIGKILL)
        time.sleep(rng.uniform(0, 3))
        collector.start()
    elif fault == "collector_outage":
        code = collector.signal(signal.SIGTERM)
        if code != 0:
            print(f"  collector exited {code} on SIGTERM", flush=True)
        time.sleep(rng.uniform(5, 20))
        collector.start()
    elif fault == "cut_network":
        proxy.cut()
    elif fault == "half_open":
        proxy.freeze()
        time.sleep(rng.uniform(2, 8))
        proxy.thaw()
    return fault


def run_outage(ns: argparse.Namespace, agent: Proc, collector: Proc, writer: Writer,
               work: Path) -> None:
    time.sleep(5)  # steady state first
    collector.signal(signal.SIGTERM)
    began = time.monotonic()
    worst_rss = 0
    while (elapsed := time.monotonic() - began) < ns.outage:
        time.sleep(1)
        rss, _ = agent.rss_kib()
        worst_rss = max(worst_rss, rss)
        if int(elapsed) % 30 == 0:
            status = json.loads((work / "state" / "status.json").read_text())
            print(f"  outage {elapsed:4.0f}s: written {writer.written}, agent read "
                  f"{status['tail']['lines_read']}, spool {status['spool']['bytes'] / 1e6:.0f} "
                  f"MB, state {status['state']}, RSS {rss / 1024:.0f} MiB", flush=True)
    _, hwm = agent.rss_kib()
    print(f"outage of {ns.outage:.0f} s at {ns.rate} lines/s: agent RSS max sampled "
          f"{worst_rss / 1024:.0f} MiB, VmHWM {hwm / 1024:.0f} MiB", flush=True)
    collector.start()


if __name__ == "__main__":
    sys.exit(main())
