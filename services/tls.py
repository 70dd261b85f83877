"""The server's TLS: one certificate and key for both listeners, and for mTLS the CA
that signs the clients' certificates (gRPC only).

The files are checked with Python's own ssl module before anything listens, so that a
wrong path, a file that is not PEM, or a key that does not belong to the certificate stops
start-up with a message naming the file (never its content), rather than a failed bind
or a handshake failure at the first call.
"""

from __future__ import annotations

import ssl

import grpc

from services.config import ServerConfig
from stepline.tls import TLSFileError, read_pem


class TLSSetupError(ValueError):
    """The TLS files cannot serve: unreadable, not PEM, or a key of another certificate."""


def check_files(config: ServerConfig) -> None:
    """Raise TLSSetupError unless the configured files make a working TLS server."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        read_pem(config.tls_cert, "certificate")
        read_pem(config.tls_key, "private key")
        context.load_cert_chain(config.tls_cert, config.tls_key)
    except TLSFileError as exc:
        raise TLSSetupError(str(exc)) from None
    except ssl.SSLError as exc:
        raise TLSSetupError(
            f"the certificate {config.tls_cert} and key {config.tls_key} do not make a "
            f"certificate chain and its key ({exc.reason or exc})"
        ) from None
    if config.tls_client_ca:
        try:
            read_pem(config.tls_client_ca, "client CA")
            context.load_verify_locations(cafile=config.tls_client_ca)
        except TLSFileError as exc:
            raise TLSSetupError(str(exc)) from None
        except ssl.SSLError as exc:
            raise TLSSetupError(
                f"the client CA file {config.tls_client_ca} holds no PEM certificate "
                f"({exc.reason or exc})"
            ) from None


def grpc_server_credentials(config: ServerConfig) -> grpc.ServerCredentials:
    """TLS for the gRPC port; with a client CA, a client without a certificate it signed
    fails the handshake (mTLS). Call check_files first."""
    pair = (read_pem(config.tls_key, "private key"), read_pem(config.tls_cert, "certificate"))
    client_ca = read_pem(config.tls_client_ca, "client CA") if config.tls_client_ca else None
    return grpc.ssl_server_credentials(
        [pair], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


def banner_note(config: ServerConfig) -> str:
    """How the gRPC port is secured, for the "listening" line ("" for plaintext)."""
    if config.tls_client_ca:
        return "TLS with client certificates (mTLS); "
    return "TLS; " if config.tls else ""
