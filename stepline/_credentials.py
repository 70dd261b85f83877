"""A Client's or Worker's credentials: the API key, sent as `authorization: Bearer <key>`
metadata on every call (the worker stream included), and the channel's TLS.

The key lives only in the call metadata, which no repr, log line or error message shows.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Sequence
from typing import Any

import grpc

from stepline import tls as tls_config

ENV_API_KEY = "STEPLINE_API_KEY"
AUTHORIZATION = "authorization"

log = logging.getLogger("stepline")

Metadata = tuple[tuple[str, str], ...]


class Redacted(str):
    """A metadata value that reprs as `'<redacted>'`: the authorization entry shows in no
    repr of a tuple, a Client's attributes or a debugger's view (gRPC sends its text)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<redacted>'"


def call_metadata(metadata: Sequence[tuple[str, str]], api_key: str | None) -> Metadata | None:
    """`metadata` plus the key's authorization entry. `api_key=None` takes STEPLINE_API_KEY
    (unless `metadata` already carries an authorization entry); "" sends no key."""
    entries = tuple(metadata)
    has_authorization = any(name.lower() == AUTHORIZATION for name, _ in entries)
    if api_key is None:
        api_key = "" if has_authorization else os.environ.get(ENV_API_KEY, "")
    elif api_key and has_authorization:
        raise ValueError("give the API key as api_key or as authorization metadata, not both")
    if api_key:
        _check_key(api_key)
        entries = (*entries, (AUTHORIZATION, Redacted(f"Bearer {api_key}")))
    return entries or None


def _check_key(api_key: str) -> None:
    # gRPC refuses such a header value with an obscure error at the first call.
    if not (api_key.isascii() and api_key.isprintable()) or api_key != api_key.strip():
        raise ValueError("an API key is printable ASCII without spaces around it")


def sends_key(metadata: Metadata | None) -> bool:
    return any(name.lower() == AUTHORIZATION for name, _ in metadata or ())


class Transport:
    """How to reach a server: the target, the resolved TLS config and the call metadata."""

    def __init__(
        self,
        target: str,
        *,
        tls: tls_config.TLSSetting,
        api_key: str | None,
        metadata: Sequence[tuple[str, str]],
    ) -> None:
        self.target = target
        self.tls = tls_config.resolve(tls)
        if self.tls is not None:
            self.tls.channel_credentials()  # unreadable files fail here, not at a first call
        self.metadata = call_metadata(metadata, api_key)
        if self.tls is None and sends_key(self.metadata) and not _is_loopback(target):
            log.warning(
                "sending an API key to %s without TLS: anyone on the network path can read "
                "it (pass tls=, or set STEPLINE_TLS_CA)",
                target,
            )

    def channel(
        self,
        *,
        options: Sequence[tuple[str, Any]] = (),
        interceptors: Sequence[grpc.aio.ClientInterceptor] | None = None,
    ) -> grpc.aio.Channel:
        return tls_config.channel(self.target, self.tls, options=options, interceptors=interceptors)


def _is_loopback(target: str) -> bool:
    """Whether a gRPC target names this machine (a plaintext key there crosses no network)."""
    if target.startswith(("unix:", "unix-abstract:")):
        return True
    host = target.removeprefix("dns:///").removeprefix("ipv4:").removeprefix("ipv6:")
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
