"""`make soak-rotation`: exactly-once under rotation abuse (rename and copytruncate) and kills.

A writer appends numbered lines to watched files at a steady rate while logrotate-style
rotations happen (rename, and copytruncate with the copy matched by the glob). The agent is
killed with SIGKILL every few seconds and restarted; with --kill-collector the collector is
too. At the end the collector's lines are compared with what was written.

Usage: python scripts/soak_rotation.py [--minutes 10] [--rate 2000] [--kill-every 5]
       [--kill-collector]
Prints: written, received, lost, duplicated, kills, and whether `sealtail verify` passed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
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

SEALTAIL = [sys.executable, "-m", "agent"]


class Writer(threading.Thread):
    """Appends `soak <n>` lines to logs/app-<k>.log, rotating every `rotate_lines`."""

    def __init__(self, logs: Path, rate: int, rotate_lines: int, files: int) -> None:
        super().__init__(daemon=True)
        self.logs, self.rate, self.rotate_lines, self.files = logs, rate, rotate_lines, files
        self.n = 0
        self.rotations = 0
        self.stop = threading.Event()
        self.rng = random.Random(1)

    def run(self) -> None:
        handles = {k: open(self.logs / f"app-{k}.log", "ab") for k in range(self.files)}  # noqa: SIM115
        since_rotation = 0
        tick = 0.01
        per_tick = max(1, int(self.rate * tick))
        while not self.stop.is_set():
            start = time.monotonic()
            for _ in range(per_tick):
                k = self.n % self.files
                handles[k].write(f"soak {self.n:09d} file={k} pad={'x' * 60}\n".encode())
                self.n += 1
            for h in handles.values():
                h.flush()
            since_rotation += per_tick
            if since_rotation >= self.rotate_lines:
                since_rotation = 0
                k = self.rng.randrange(self.files)
                path = self.logs / f"app-{k}.log"
                handles[k].close()
                self.rotations += 1
                if self.rng.random() < 0.5:
                    os.rename(path, self.logs / f"app-{k}.log.{self.rotations}")
                else:  # copytruncate, the copy matched by the glob
                    shutil.copyfile(path, self.logs / f"app-{k}.log.{self.rotations}")
                    os.truncate(path, 0)
                handles[k] = open(path, "ab")  # noqa: SIM115
            time.sleep(max(0.0, tick - (time.monotonic() - start)))
        for h in handles.values():
            h.close()


def start(args: list[str], log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([*SEALTAIL, *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=open(log, "a"), text=True)


def stored_lines(address: str) -> Counter[bytes]:
    got: Counter[bytes] = Counter()
    with grpc.insecure_channel(address, options=[
            ("grpc.max_receive_message_length", 256 * 1024 * 1024)]) as channel:
        for page in pb_grpc.QueryStub(channel).Search(pb.SearchRequest(), timeout=600):
            for r in page.results:
                got[pb.Entry.FromString(r.entry).line] += 1
    return got


def stored_count(address: str) -> int:
    with grpc.insecure_channel(address) as channel:
        try:
            reply = pb_grpc.QueryStub(channel).Agents(pb.AgentsRequest(), timeout=5)
        except grpc.RpcError:
            return -1
    return sum(a.entries for a in reply.agents)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--rate", type=int, default=2000, help="lines per second written")
    p.add_argument("--kill-every", type=float, default=5, help="seconds between agent kills")
    p.add_argument("--kill-collector", action="store_true", help="also kill the collector")
    p.add_argument("--files", type=int, default=3)
    ns = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sealtail-soak-"))
    logs = work / "logs"
    logs.mkdir()
    subprocess.run([*SEALTAIL, "keygen", "--out", str(work / "agent.key")], check=True,
                   capture_output=True, cwd=ROOT)
    (work / "auth").write_text((work / "agent.key.pub").read_text())
    (work / "agent.toml").write_text(
        "[tail]\npartial_idle_secs = 1.0\nrotate_wait_secs = 2.0\n"
        "[ship]\nbackoff_initial_ms = 100\nbackoff_max_ms = 2000\n")
    collector_args = ["collector", "--listen", "127.0.0.1:0", "--data", str(work / "data"),
                      "--authorized-keys", str(work / "auth"), "--log-level", "WARNING"]
    collector = start(collector_args, work / "collector.log")
    assert collector.stdout is not None
    address = collector.stdout.readline().rsplit(" ", 1)[1].strip()
    collector_args[2] = address  # restart on the same port
    agent_args = ["agent", "--config", str(work / "agent.toml"), "--collector", address,
                  "--key", str(work / "agent.key"), "--state", str(work / "state"),
                  "--name", "soak", "--log-level", "WARNING", str(logs / "app-*.log*")]
    agent = start(agent_args, work / "agent.log")
    writer = Writer(logs, ns.rate, rotate_lines=max(1000, ns.rate * 3), files=ns.files)
    writer.start()
    rng = random.Random(2)
    kills = collector_kills = 0
    deadline = time.monotonic() + ns.minutes * 60
    print(f"soak in {work}: {ns.minutes} min, {ns.rate} lines/s, kill every ~{ns.kill_every}s"
          f"{' (collector too)' if ns.kill_collector else ''}", flush=True)
    while time.monotonic() < deadline:
        time.sleep(rng.uniform(0.5, 1.5) * ns.kill_every)
        if ns.kill_collector and rng.random() < 0.3:
            collector.send_signal(signal.SIGKILL)
            collector.wait()
            collector_kills += 1
            time.sleep(rng.uniform(0.2, 2.0))
            collector = start(collector_args, work / "collector.log")
            assert collector.stdout is not None
            collector.stdout.readline()
        else:
            agent.send_signal(signal.SIGKILL)
            agent.wait()
            kills += 1
            time.sleep(rng.uniform(0.0, 1.0))
            agent = start(agent_args, work / "agent.log")
    writer.stop.set()
    writer.join()
    written = writer.n
    settle = time.monotonic() + 120
    while stored_count(address) < written and time.monotonic() < settle:
        time.sleep(1)
    time.sleep(3)
    got = stored_lines(address)
    want = Counter(f"soak {i:09d} file={i % ns.files} pad={'x' * 60}".encode()
                   for i in range(written))
    lost = sum((want - got).values())
    dup = sum((got - want).values())
    agent.terminate()
    agent.wait(30)
    verify = subprocess.run([*SEALTAIL, "verify", "--collector", address], cwd=ROOT,
                            capture_output=True, text=True)
    collector.terminate()
    collector.wait(30)
    print(f"written={written} received={sum(got.values())} lost={lost} duplicated={dup} "
          f"agent_kills={kills} collector_kills={collector_kills} rotations={writer.rotations} "
          f"verify={'OK' if verify.returncode == 0 else 'FAILED: ' + verify.stdout[-300:]}")
    return 0 if lost == 0 and dup == 0 and verify.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
