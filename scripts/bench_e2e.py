"""`make bench`: end-to-end catch-up throughput, agent → collector, against baselines.

Writes N realistic lines (../shared/bench/genlog.py when present, else a built-in generator)
to a file, starts a collector and an agent as separate processes, and times how long the
collector takes to hold every line (durably stored, verified). Repeats R times; prints the
median and the range. Baselines measured in the same run on the same file:
  * read+split: a bare Python loop reading and splitting the file (what tailing alone costs);
  * rsyslog imfile→omfwd TCP (../shared/bench/peer_rsyslog.sh) when rsyslogd and socat exist.

Wire compression (ship.compression) is measured in the same run: each repeat runs once with
"none" (the uncompressed baseline) and once with "zstd", the agent talking to the collector
through a counting TCP proxy (tests/netproxy.py, in the path for both), which gives the bytes
on the wire (HTTP/2 framing included) next to the lines/s.

With --tls each repeat also runs "zstd" over mutual TLS (a CA, server and client
certificates made for the run), for the cost of TLS against plaintext in the same run.

Usage: python scripts/bench_e2e.py [--lines N] [--repeats R] [--tls]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent._pb import sealtail_pb2 as pb  # noqa: E402
from agent._pb import sealtail_pb2_grpc as pb_grpc  # noqa: E402
from tests.netproxy import TcpProxy  # noqa: E402

SHARED_BENCH = ROOT.parent / "shared" / "bench"
SEALTAIL = [sys.executable, "-m", "agent"]


def write_lines(path: Path, n: int) -> str:
    genlog = SHARED_BENCH / "genlog.py"
    if genlog.exists():
        subprocess.run([sys.executable, str(genlog), str(n), str(path)], check=True)
        return "genlog.py"
    rng = random.Random(7)
    with path.open("w") as f:
        for i in range(n):
            f.write(f"2026-12-01T00:00:{i % 60:02d}Z web-01 sshd[{rng.randint(1000, 65000)}]: "
                    f"Accepted publickey for alice from 10.0.{rng.randint(0, 255)}.1 port "
                    f"{rng.randint(1024, 65535)} ssh2\n")
    return "built-in generator"


def baseline_read_split(path: Path) -> float:
    start = time.perf_counter()
    rest = b""
    count = 0
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(1 << 20):
            parts = (rest + chunk).split(b"\n")
            rest = parts.pop()
            count += len(parts)
    return count / (time.perf_counter() - start)


def stored_entries(address: str, creds: grpc.ChannelCredentials | None = None) -> int:
    with (grpc.insecure_channel(address) if creds is None
          else grpc.secure_channel(address, creds)) as channel:
        try:
            reply = pb_grpc.QueryStub(channel).Agents(pb.AgentsRequest(), timeout=5)
        except grpc.RpcError:
            return 0
    return sum(a.entries for a in reply.agents)


def run_once(log: Path, n: int, work: Path, compression: str,
             tls: bool = False) -> tuple[float, int]:
    """(lines/s, bytes agent → collector on the wire) for one catch-up of `log`."""
    key = work / "agent.key"
    subprocess.run([*SEALTAIL, "keygen", "--out", str(key)], check=True, capture_output=True)
    (work / "auth").write_text(Path(f"{key}.pub").read_text())
    (work / "agent.toml").write_text(f'[ship]\ncompression = "{compression}"\n')
    (work / "collector.toml").write_text("")
    creds = None
    if tls:
        from tests.certs import CertAuthority  # dev dependency (cryptography)

        ca = CertAuthority(work / "pki")
        server, client = ca.issue("collector", server=True), ca.issue("agent", server=False)
        (work / "collector.toml").write_text(
            f'[collector.tls]\ncert_file = "{server.cert}"\nkey_file = "{server.key}"\n'
            f'client_ca_file = "{ca.cert}"\nrequire_client_cert = true\n')
        with (work / "agent.toml").open("a") as f:
            f.write(f'[agent.tls]\nca_file = "{ca.cert}"\ncert_file = "{client.cert}"\n'
                    f'key_file = "{client.key}"\n')
        creds = grpc.ssl_channel_credentials(ca.cert.read_bytes(), client.key.read_bytes(),
                                             client.cert.read_bytes())
    collector = subprocess.Popen(
        [*SEALTAIL, "collector", "--listen", "127.0.0.1:0", "--data", str(work / "data"),
         "--authorized-keys", str(work / "auth"), "--log-level", "WARNING", "--config",
         str(work / "collector.toml")],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert collector.stdout is not None
    address = collector.stdout.readline().rsplit(" ", 1)[1].strip()
    proxy = TcpProxy(int(address.rsplit(":", 1)[1]))
    start = time.perf_counter()
    agent = subprocess.Popen(
        [*SEALTAIL, "agent", "--collector", proxy.address, "--key", str(key), "--state",
         str(work / "state"), "--name", "bench", "--log-level", "WARNING", "--config",
         str(work / "agent.toml"), str(log)], cwd=ROOT)
    try:
        while stored_entries(address, creds) < n:
            if agent.poll() is not None or collector.poll() is not None:
                raise SystemExit("a sealtail process exited during the benchmark")
            time.sleep(0.05)
        rate = n / (time.perf_counter() - start)
        PEAK_RSS.append((vm_hwm_mib(agent.pid), [vm_hwm_mib(c) for c in children(agent.pid)]))
        return rate, proxy.bytes_up
    finally:
        for p in (agent, collector):
            p.terminate()
        for p in (agent, collector):
            p.wait(30)
        proxy.close()


PEAK_RSS: list[tuple[float, list[float]]] = []  # (agent, [model workers]) per run, MiB


def vm_hwm_mib(pid: int) -> float:
    try:
        for row in Path(f"/proc/{pid}/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    """Child processes of `pid`, whichever of its threads started them."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def peer_rsyslog(log: Path) -> str:
    script = SHARED_BENCH / "peer_rsyslog.sh"
    if not (script.exists() and shutil.which("rsyslogd") and shutil.which("socat")):
        return "skipped (needs rsyslogd and socat: apt-get install rsyslog socat)"
    out = subprocess.run(["bash", str(script), str(log)], capture_output=True, text=True,
                         timeout=600)
    return out.stdout.strip() or out.stderr.strip()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tls", action="store_true", help="also run zstd over mutual TLS")
    ns = parser.parse_args()
    modes = ("none", "zstd", "zstd-mtls") if ns.tls else ("none", "zstd")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "bench.log"
        source = write_lines(log, ns.lines)
        size = log.stat().st_size
        print(f"input: {ns.lines} lines, {size / 1e6:.1f} MB from {source}; {os.cpu_count()} CPUs")
        base = [baseline_read_split(log) for _ in range(3)]
        rates: dict[str, list[float]] = {m: [] for m in modes}
        wire: dict[str, list[int]] = {m: [] for m in modes}
        for i in range(ns.repeats):
            for mode in modes:
                work = Path(tmp) / f"run{i}-{mode}"
                work.mkdir()
                rate, sent = run_once(log, ns.lines, work, mode.removesuffix("-mtls"),
                                      tls=mode.endswith("-mtls"))
                rates[mode].append(rate)
                wire[mode].append(sent)
                print(f"  run {i + 1} compression={mode}: {rate:,.0f} lines/s, "
                      f"{sent / 1e6:.1f} MB agent→collector on the wire")
        med, base_med = statistics.median(rates["zstd"]), statistics.median(base)
        mbps = med * size / ns.lines / 1e6
        print(f"sealtail end-to-end (tail→seal→spool→gRPC→verify→SQLite, durable, zstd): median "
              f"{med:,.0f} lines/s [{min(rates['zstd']):,.0f}–{max(rates['zstd']):,.0f}], "
              f"{mbps:.1f} MB/s of log")
        plain, packed = statistics.median(wire["none"]), statistics.median(wire["zstd"])
        plain_rate = statistics.median(rates["none"])
        print(f"wire compression: none {plain / 1e6:.1f} MB, {plain_rate:,.0f} lines/s; zstd-1 "
              f"{packed / 1e6:.1f} MB, {med:,.0f} lines/s: {plain / packed:.2f}x fewer bytes, "
              f"lines/s x{med / plain_rate:.2f} (input file {size / 1e6:.1f} MB)")
        if ns.tls:
            tls_med = statistics.median(rates["zstd-mtls"])
            print(f"mutual TLS: zstd over mTLS median {tls_med:,.0f} lines/s "
                  f"[{min(rates['zstd-mtls']):,.0f}–{max(rates['zstd-mtls']):,.0f}] vs "
                  f"plaintext {med:,.0f}: x{tls_med / med:.2f}; "
                  f"{statistics.median(wire['zstd-mtls']) / 1e6:.1f} MB on the wire")
        print(f"baseline read+split (Python, page cache): median {base_med:,.0f} lines/s; "
              f"sealtail/baseline = {med / base_med:.4f}")
        agent_rss, worker_rss = PEAK_RSS[-1]
        print(f"peak RSS (last run): agent {agent_rss:.1f} MiB, model worker(s) "
              f"{', '.join(f'{w:.1f}' for w in worker_rss) or 'none'} MiB")
        print(f"peer rsyslog: {peer_rsyslog(log)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
