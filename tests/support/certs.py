"""A throwaway CA and certificates, made at test time with trustme (nothing committed):
the server's for 127.0.0.1 and localhost, a client's (mTLS) signed by the same CA, and a
client's signed by another CA that the server does not trust."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Certs:
    ca: str  # the CA certificate: clients trust it; an mTLS server takes it as client CA
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str
    stranger_cert: str  # a client certificate signed by a CA nobody here trusts
    stranger_key: str


def make_certs(directory: Path) -> Certs:
    ca = trustme.CA()
    stranger_ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("worker-1.example.test")
    stranger = stranger_ca.issue_cert("intruder.example.test")

    def write(name: str, blob: trustme.Blob) -> str:
        path = directory / name
        blob.write_to_path(str(path))
        return str(path)

    def write_chain(name: str, leaf: trustme.LeafCert) -> str:
        path = directory / name
        path.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        return str(path)

    return Certs(
        ca=write("ca.pem", ca.cert_pem),
        server_cert=write_chain("server.pem", server),
        server_key=write("server.key", server.private_key_pem),
        client_cert=write_chain("client.pem", client),
        client_key=write("client.key", client.private_key_pem),
        stranger_cert=write_chain("stranger.pem", stranger),
        stranger_key=write("stranger.key", stranger.private_key_pem),
    )
