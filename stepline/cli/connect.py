"""The connection flags of every command (`--api-key`, `--tls*`, defaulting to the
STEPLINE_API_KEY and STEPLINE_TLS_* variables) as a Client's or Worker's options."""

from __future__ import annotations

import argparse
from typing import Any

from stepline._credentials import call_metadata
from stepline.cli.errors import UsageError
from stepline.tls import TLSConfig, TLSFileError


def tls_config(args: argparse.Namespace) -> TLSConfig | None:
    """TLS as the flags (or their variables) ask; None for plaintext. UsageError for a
    certificate without its key, or a file that cannot be read."""
    ca, cert, key, name = (args.tls_ca, args.tls_cert, args.tls_key, args.tls_server_name)
    if not (args.tls or ca or cert or key or name):
        return None
    try:
        config = TLSConfig(
            ca=ca or None, cert=cert or None, key=key or None, server_name=name or None
        )
        config.channel_credentials()
    except TLSFileError as exc:
        raise UsageError(str(exc)) from None
    except ValueError:
        raise UsageError("--tls-cert and --tls-key go together") from None
    return config


def connection_options(args: argparse.Namespace) -> dict[str, Any]:
    """`api_key` and `tls` for Client(...) or Worker(...): explicit, since the flags have
    already read the environment (tls=False rather than a second look at it)."""
    try:
        call_metadata((), args.api_key)
    except ValueError as exc:
        raise UsageError(f"--api-key: {exc}") from None
    return {"api_key": args.api_key, "tls": tls_config(args) or False}
