"""systemd readiness and watchdog notifications (sd_notify), without a dependency.

The protocol is one datagram per message on the unix socket named by ``$NOTIFY_SOCKET``
(a path, or ``@name`` for the abstract namespace): newline-separated ``KEY=VALUE`` pairs such
as ``READY=1``, ``STATUS=…``, ``WATCHDOG=1``, ``STOPPING=1``. Outside systemd (no
``$NOTIFY_SOCKET``) every call is a no-op, so the same code runs under a plain shell, a
container runtime and systemd.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket

log = logging.getLogger("sealtail.sdnotify")


def notify(*fields: str) -> bool:
    """Send ``fields`` (e.g. ``"READY=1"``, ``"STATUS=tailing 3 files"``) to the service
    manager. Returns False when there is no manager to tell, or sending failed (logged once at
    DEBUG: readiness is best effort, the agent's work must not depend on it)."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall("\n".join(fields).encode())
    except OSError as exc:
        log.debug("sd_notify to %s failed: %s", address.lstrip("\0"), exc)
        return False
    return True


def watchdog_interval_secs() -> float | None:
    """Half the watchdog timeout systemd asks for (``$WATCHDOG_USEC``), or None when no
    watchdog applies to this process (``$WATCHDOG_PID`` names another)."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) <= 0:
        return None
    if pid and pid != str(os.getpid()):
        return None
    return int(usec) / 1e6 / 2


async def watchdog_loop(interval_secs: float) -> None:
    """Send ``WATCHDOG=1`` every `interval_secs` from the event loop: a loop that stops
    turning (a blocking call, a deadlock) stops the pings and systemd restarts the service."""
    while True:
        notify("WATCHDOG=1")
        await asyncio.sleep(interval_secs)
