"""TLS for a gRPC channel to a stepline server: `TLSConfig`, read by the SDK's Client and
Worker, the `stepline` CLI and the standalone REST gateway (its upstream channel).

A config names PEM files, never their contents: the private key is read when a channel
is made and kept only inside gRPC's credentials, so no repr, log line or error message
can carry it. The environment variables are those of the SDK and the CLI:
STEPLINE_TLS_CA, STEPLINE_TLS_CERT, STEPLINE_TLS_KEY (and STEPLINE_TLS_SERVER_NAME).

This module is shared with the server side (tests/test_architecture.py): it imports
nothing else of the SDK.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

ENV_CA = "STEPLINE_TLS_CA"
ENV_CERT = "STEPLINE_TLS_CERT"
ENV_KEY = "STEPLINE_TLS_KEY"
ENV_SERVER_NAME = "STEPLINE_TLS_SERVER_NAME"


class TLSFileError(ValueError):
    """A certificate or key file cannot be read. The message names the file, not its content."""


@dataclass(frozen=True, slots=True)
class TLSConfig:
    """Paths of PEM files for a TLS channel.

    `ca`: the CA certificates that sign the server's certificate (None: the system's).
    `cert` and `key`: this client's certificate chain and private key, for a server that
    requires client certificates (mTLS); both or neither.
    `server_name`: the name to check the server's certificate for, when it differs from
    the host of the address dialled (an IP address, a tunnel).
    """

    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    server_name: str | None = None

    def __post_init__(self) -> None:
        if bool(self.cert) != bool(self.key):
            raise ValueError("a client certificate needs its key: give both cert and key, or none")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TLSConfig | None:
        """The config the STEPLINE_TLS_* variables describe; None when none is set."""
        env = os.environ if environ is None else environ
        values = [env.get(name) or None for name in (ENV_CA, ENV_CERT, ENV_KEY, ENV_SERVER_NAME)]
        if not any(values):
            return None
        ca, cert, key, server_name = values
        return cls(ca=ca, cert=cert, key=key, server_name=server_name)

    def channel_credentials(self) -> grpc.ChannelCredentials:
        """gRPC credentials holding the files' contents. Raises TLSFileError."""
        return grpc.ssl_channel_credentials(
            root_certificates=read_pem(self.ca, "CA certificate") if self.ca else None,
            private_key=read_pem(self.key, "private key") if self.key else None,
            certificate_chain=read_pem(self.cert, "certificate") if self.cert else None,
        )

    def channel_options(self) -> list[tuple[str, Any]]:
        if not self.server_name:
            return []
        return [("grpc.ssl_target_name_override", self.server_name)]


TLSSetting = TLSConfig | bool | None
"""What `tls=` takes: a TLSConfig; True for TLS with the system's trusted CAs (and the
files the STEPLINE_TLS_* variables name, if set); False for plaintext whatever the
environment says; None (the default) for TLS exactly when a STEPLINE_TLS_* variable is set."""


def resolve(tls: TLSSetting, environ: Mapping[str, str] | None = None) -> TLSConfig | None:
    """The TLS config for a `tls=` argument; None for plaintext."""
    if isinstance(tls, TLSConfig):
        return tls
    if tls is False:
        return None
    from_env = TLSConfig.from_env(environ)
    if tls is True:
        return from_env or TLSConfig()
    return from_env


def read_pem(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise TLSFileError(f"cannot read the {what} file {path}: {exc.strerror}") from None


def channel(
    target: str,
    tls: TLSConfig | None,
    *,
    options: Sequence[tuple[str, Any]] = (),
    interceptors: Sequence[grpc.aio.ClientInterceptor] | None = None,
) -> grpc.aio.Channel:
    """An asyncio channel to `target`: TLS with `tls`, plaintext without."""
    if tls is None:
        return grpc.aio.insecure_channel(target, options=list(options), interceptors=interceptors)
    return grpc.aio.secure_channel(
        target,
        tls.channel_credentials(),
        options=[*options, *tls.channel_options()],
        interceptors=interceptors,
    )
