"""`make run`: a collector and an agent on a demo log directory, with lines flowing.

Everything lives in ./demo (keys, logs, agent state, collector store). Ctrl-C stops it all;
running it again continues the same chains.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"
SEALTAIL = [sys.executable, "-m", "agent"]
ADDRESS = os.environ.get("SEALTAIL_DEMO_ADDRESS", "127.0.0.1:7600")
# After this many seconds of traffic the demo prints `sealtail summary` of the last 15 min.
SUMMARY_AFTER_SECS = float(os.environ.get("SEALTAIL_DEMO_SUMMARY_SECS", "60"))
BURST_AFTER_SECS = SUMMARY_AFTER_SECS / 3  # a brute-force run, so the summary has a finding

USERS = ["alice", "bob", "carol", "deploy", "root", "admin", "postgres"]
HOSTS = ["203.0.113.9", "198.51.100.4", "192.0.2.77", "10.1.2.3"]


def demo_line(rng: random.Random) -> str:
    """A plausible auth/app log line (made up here; no third-party data)."""
    ts = time.strftime("%b %d %H:%M:%S")
    user, ip, pid = rng.choice(USERS), rng.choice(HOSTS), rng.randint(1000, 65000)
    port = rng.randint(1024, 65535)
    choices = [
        f"{ts} web-1 sshd[{pid}]: Accepted publickey for {user} from {ip} port {port} ssh2",
        f"{ts} web-1 sshd[{pid}]: Failed password for invalid user {user} from {ip} "
        f"port {port} ssh2",
        f"{ts} web-1 sshd[{pid}]: pam_unix(sshd:session): session opened for user {user}",
        f"{ts} web-1 sudo: {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; "
        f"COMMAND=/bin/systemctl restart nginx",
        f"{ts} web-1 app[{pid}]: GET /api/orders/{rng.randint(1, 9999)} 200 {rng.randint(1, 90)}ms",
        f"{ts} web-1 app[{pid}]: ERROR payment-service: timeout after 30000 ms",
        f"{ts} web-1 kernel: [UFW BLOCK] IN=eth0 SRC={ip} DST=10.0.0.5 PROTO=TCP DPT=23",
    ]
    weights = [3, 2, 3, 1, 12, 1, 1]
    return rng.choices(choices, weights)[0]


def burst_lines(rng: random.Random) -> list[str]:
    """Twelve failed passwords for one user from one address, then a success."""
    ts = time.strftime("%b %d %H:%M:%S")
    pid = rng.randint(1000, 65000)
    lines = [f"{ts} web-1 sshd[{pid}]: Failed password for deploy from 192.0.2.200 port "
             f"{rng.randint(1024, 65535)} ssh2" for _ in range(12)]
    return [*lines, f"{ts} web-1 sshd[{pid}]: Accepted password for deploy from 192.0.2.200 "
                    f"port {rng.randint(1024, 65535)} ssh2"]


def print_summary() -> None:
    proc = subprocess.run([*SEALTAIL, "summary", "--collector", ADDRESS, "--since", "15m"],
                          capture_output=True, text=True, timeout=120)
    print(f"\n$ sealtail summary --collector {ADDRESS} --since 15m", flush=True)
    print(proc.stdout if proc.returncode == 0 else proc.stderr, flush=True)


def main() -> int:
    logs, state, store = DEMO / "logs", DEMO / "agent-state", DEMO / "collector"
    logs.mkdir(parents=True, exist_ok=True)
    key = DEMO / "agent.key"
    if not key.exists():
        subprocess.run([*SEALTAIL, "keygen", "--out", str(key)], check=True)
    (DEMO / "authorized_keys").write_text(Path(f"{key}.pub").read_text())
    procs = [
        subprocess.Popen([*SEALTAIL, "collector", "--listen", ADDRESS, "--data", str(store),
                          "--authorized-keys", str(DEMO / "authorized_keys")],
                         stderr=open(DEMO / "collector.log", "ab")),  # noqa: SIM115
        subprocess.Popen([*SEALTAIL, "agent", "--collector", ADDRESS, "--key", str(key),
                          "--state", str(state), "--name", "demo-host", str(logs / "*.log")],
                         stderr=open(DEMO / "agent.log", "ab")),  # noqa: SIM115
    ]
    s = "sealtail" if os.environ.get("VIRTUAL_ENV") else ".venv/bin/sealtail"
    print(f"""
sealtail demo running: collector on {ADDRESS}, agent tailing {logs}/*.log
(logs of the two processes: demo/collector.log, demo/agent.log). In another terminal:

  {s} query --collector {ADDRESS} --count
  {s} query --collector {ADDRESS} --category failed_login --limit 5
  {s} query --collector {ADDRESS} --contains sudo --json --limit 2
  {s} verify --collector {ADDRESS}
  {s} verify --data demo/collector        (offline, over the store files)
  {s} summary --collector {ADDRESS} --since 15m [--json | --html report.html]

Writing a few demo lines per second to {logs}/auth.log, with a brute-force run after
{BURST_AFTER_SECS:.0f} s; a summary is printed after {SUMMARY_AFTER_SECS:.0f} s.
Ctrl-C stops everything.
""", flush=True)
    rng = random.Random()
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    written = 0
    started = time.monotonic()
    burst_done = summary_done = False
    try:
        with open(logs / "auth.log", "a", buffering=1) as out:
            while not stopping:
                for _ in range(rng.randint(1, 8)):
                    out.write(demo_line(rng) + "\n")
                    written += 1
                elapsed = time.monotonic() - started
                if not burst_done and elapsed >= BURST_AFTER_SECS:
                    burst_done = True
                    for line in burst_lines(rng):
                        out.write(line + "\n")
                        written += 1
                if not summary_done and elapsed >= SUMMARY_AFTER_SECS:
                    summary_done = True
                    print_summary()
                if any(p.poll() is not None for p in procs):
                    print("a sealtail process exited; see demo/*.log", file=sys.stderr)
                    return 1
                time.sleep(0.5)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        print(f"\nstopped; wrote {written} lines this run. Data stays in ./demo.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
