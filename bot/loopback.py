"""The one loopback test: which host names and addresses are this machine. With Bot Framework auth off the bot serves
and replies to loopback hosts only (settings, the app's Host guard, the adapter's reply targets)."""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str | None) -> bool:
    """True for a loopback address or name (`127.0.0.0/8`, `::1`, `localhost`), with or without brackets."""
    name = (host or "").strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
