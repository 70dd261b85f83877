"""`--auth required|off`, and its default: off only when every listener is on a loopback
address. A server that listens beyond loopback requires keys unless told `--auth off`
explicitly (flag or STEPLINE_AUTH), and then says so at every start."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from services.config import AUTH_MODES

_LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(address: str) -> bool:
    """Whether `host:port` listens on loopback only (a wildcard host does not)."""
    host = address.rpartition(":")[0].strip("[]")
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name that may resolve anywhere, or the wildcard ""


def resolve(explicit: str | None, listeners: Iterable[str]) -> tuple[str, str | None]:
    """The auth mode, and a warning to print at start (None when there is none)."""
    if explicit is not None and explicit not in AUTH_MODES:
        raise ValueError(f"--auth must be one of {', '.join(AUTH_MODES)}")
    exposed = [address for address in listeners if address and not is_loopback(address)]
    if explicit is None:
        return ("required" if exposed else "off"), None
    if explicit == "off" and exposed:
        return "off", (
            f"WARNING: auth is off while listening on {', '.join(exposed)}: anyone who "
            "reaches these ports can read, start and cancel every namespace's runs "
            "(see docs/security.md)"
        )
    return explicit, None
