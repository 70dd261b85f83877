"""`stepline-server keys create|revoke`: API keys written straight to the database, so
that the first (operator) key needs no running server:

    stepline-server keys create --namespace '*' --role admin --name ops

The secret alone goes to stdout (for a script to capture), the rest to stderr."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from services import api_keys
from services import validation as v
from services.admin_service import key_namespace
from services.errors import ApiError
from storage import create_store
from storage.access import ANY_NAMESPACE, ApiKeyRevokeParams, Role


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    keys = commands.add_parser(
        "keys", parents=[common], help="create or revoke API keys in the database directly"
    )
    actions = keys.add_subparsers(dest="keys_command", required=True)
    create = actions.add_parser("create", parents=[common], help="create a key, print its secret")
    create.add_argument(
        "--namespace", required=True, help="the key's namespace, or '*' for an operator key"
    )
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--name", required=True, help="a name for people, e.g. ops")
    revoke = actions.add_parser("revoke", parents=[common], help="revoke a key")
    revoke.add_argument("--namespace", required=True, help="the key's namespace, or '*'")
    revoke.add_argument("key_id", help="the key's ID (the hex digits after 'stepline_')")


async def run(args: argparse.Namespace) -> None:
    store = create_store(args.database_url)
    await store.start()
    try:
        await store.migrate()
        if args.keys_command == "create":
            await _create(store, args)
        else:
            params = ApiKeyRevokeParams(_namespace(args.namespace), args.key_id)
            revoked = await store.api_key_revoke(params)
            print(f"stepline-server: revoked API key {revoked.key_id}", file=sys.stderr)
    finally:
        await store.close()


async def _create(store: Any, args: argparse.Namespace) -> None:
    namespace = _namespace(args.namespace)
    if namespace != ANY_NAMESPACE:
        await store.namespace_get(namespace)  # NamespaceNotFound: create it first
    try:
        name = v.name(args.name, "name")
    except ApiError as exc:
        raise ValueError(f"--name: {exc}") from None
    key, secret = await api_keys.issue(store, namespace, name, Role(args.role))
    print(
        f"stepline-server: created API key {key.key_id} (role {key.role.value}, namespace "
        f"{key.namespace_id}, name {key.name}); its secret, shown this once:",
        file=sys.stderr,
    )
    print(secret, flush=True)


def _namespace(value: str) -> str:
    try:
        return key_namespace(value)
    except ApiError as exc:
        raise ValueError(f"--namespace: {exc}") from None
