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

Writing a few demo lines per second to {logs}/auth.log; Ctrl-C stops everything.
""", flush=True)
    rng = random.Random()
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    written = 0
    try:
        with open(logs / "auth.log", "a", buffering=1) as out:
            while not stopping:
                for _ in range(rng.randint(1, 8)):
                    out.write(demo_line(rng) + "\n")
                    written += 1
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
