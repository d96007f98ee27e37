"""Resource use of a real agent: RSS and CPU while it tails a steady stream of lines.

Starts a collector and an agent (separate processes, loopback only), writes RATE lines/s of
~120-byte sshd/app-like lines for SECS seconds, then samples the agent's /proc/PID: resident
set size (VmRSS, peak VmHWM) and CPU time (utime+stime), and the peak RSS of each model worker
process it started (children running agent.classify._worker), reported separately and summed:
they are separate processes in the same container. The RSS sum counts pages both processes
map (libpython, libc) twice; the sampled peak of their PSS sum (/proc/PID/smaps_rollup, once
a second) counts them once, as the container's memory cgroup does. Prints one summary; the
Kubernetes requests/limits in config/kubernetes/ come from these figures (see the README there).

Usage: python scripts/measure_agent.py [--rate 1000] [--secs 60] [--http]

--http serves the agent's /metrics, /healthz ... endpoint (ops.http_listen on loopback, port 0),
as the Kubernetes sidecar does: prometheus_client is imported only then (~3 MiB).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEALTAIL = [sys.executable, "-m", "agent"]
ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def cpu_secs(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def mem_kib(pid: int) -> tuple[int, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def pss_kib(pid: int) -> int:
    """Proportional set size: shared pages divided among the processes mapping them."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def model_workers(pid: int) -> list[int]:
    """Child processes of `pid` running the model worker."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                cmd = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"agent.classify._worker" in cmd:
                found.append(int(child))
    return found


def line(i: int) -> str:
    r = random.Random(i)
    if i % 10 == 0:
        return (f"Dec  3 10:{i % 60:02d}:00 host sshd[{r.randint(1000, 9999)}]: Failed password "
                f"for invalid user u{r.randint(1, 500)} from 10.{r.randint(0, 255)}."
                f"{r.randint(0, 255)}.{r.randint(1, 254)} port {r.randint(1024, 65535)} ssh2")
    return (f"2026-12-03T10:00:{i % 60:02d}Z app[{r.randint(1, 99)}] GET /api/v1/items/"
            f"{r.randint(1, 10**6)} status=200 duration_ms={r.randint(1, 900)} "
            f"user={r.randint(1, 10**4)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=1000, help="lines per second")
    ap.add_argument("--secs", type=int, default=60)
    ap.add_argument("--http", action="store_true", help="with ops.http_listen (127.0.0.1:0)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        subprocess.run([*SEALTAIL, "keygen", "--out", str(tmp / "k")], check=True,
                       capture_output=True, cwd=ROOT)
        (tmp / "ak").write_text((tmp / "k.pub").read_text())
        (tmp / "logs").mkdir()
        log = tmp / "logs" / "app.log"
        log.touch()
        collector = subprocess.Popen(
            [*SEALTAIL, "collector", "--listen", "127.0.0.1:0", "--data", str(tmp / "data"),
             "--authorized-keys", str(tmp / "ak")], stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
        assert collector.stdout is not None
        address = collector.stdout.readline().rsplit(" ", 1)[1].strip()
        agent = subprocess.Popen(
            [*SEALTAIL, "agent", "--collector", address, "--key", str(tmp / "k"), "--state",
             str(tmp / "state"), "--name", "measure",
             *(["--http-listen", "127.0.0.1:0"] if args.http else []), str(tmp / "logs" / "*.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        try:
            time.sleep(3)
            idle_rss, _ = mem_kib(agent.pid)
            cpu0, t0 = cpu_secs(agent.pid), time.monotonic()
            samples = []
            pss_peak = 0
            i = 0
            with log.open("a") as f:
                for second in range(args.secs):
                    f.write("".join(line(i + k) + "\n" for k in range(args.rate)))
                    f.flush()
                    i += args.rate
                    time.sleep(max(0.0, t0 + second + 1 - time.monotonic()))
                    samples.append(mem_kib(agent.pid)[0])
                    # agent + workers, shared pages (libpython, libc...) counted once, as the
                    # container's memory cgroup charges them; sampled once a second
                    pss_peak = max(pss_peak, pss_kib(agent.pid) + sum(
                        pss_kib(w) for w in model_workers(agent.pid)))
            time.sleep(2)
            cpu = cpu_secs(agent.pid) - cpu0
            wall = time.monotonic() - t0
            rss, hwm = mem_kib(agent.pid)
            workers = {w: mem_kib(w)[1] for w in model_workers(agent.pid)}
            size = log.stat().st_size
        finally:
            agent.terminate()
            agent.wait(30)
            collector.terminate()
            collector.wait(30)
    print(f"agent at {args.rate} lines/s for {args.secs} s ({i} lines, "
          f"{size} bytes): "
          f"RSS idle {idle_rss / 1024:.0f} MiB, steady median "
          f"{sorted(samples)[len(samples) // 2] / 1024:.0f} MiB, end {rss / 1024:.0f} MiB, "
          f"peak {hwm / 1024:.0f} MiB; CPU {cpu:.1f} s over {wall:.0f} s = "
          f"{1000 * cpu / wall:.0f} millicores")
    worker_peak = sum(workers.values())
    print(f"model workers: {len(workers)}, peak RSS "
          f"{', '.join(f'{k / 1024:.1f}' for k in workers.values()) or '-'} MiB; "
          f"agent peak {hwm / 1024:.1f} MiB + workers {worker_peak / 1024:.1f} MiB = "
          f"{(hwm + worker_peak) / 1024:.1f} MiB for the container (RSS sum: shared pages "
          f"counted in each process); sampled peak PSS sum {pss_peak / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
