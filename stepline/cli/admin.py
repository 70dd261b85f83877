"""`stepline namespaces create|get|list|update` and `stepline keys create|list|revoke`:
the AdminService, through its gRPC stub, over the connection the global flags describe
(`--api-key`/STEPLINE_API_KEY, `--tls*`); creating and listing namespaces needs an
operator key."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import json_format
from rich.table import Table

from stepline._credentials import ENV_API_KEY, Transport
from stepline.cli import render
from stepline.cli.connect import connection_options
from stepline.v1 import access_pb2
from stepline.v1 import admin_service_pb2 as ad
from stepline.v1 import admin_service_pb2_grpc as ad_grpc

Admin = ad_grpc.AdminServiceStub


async def run(args: argparse.Namespace) -> int:
    """Carry out the command; a refused call is one line on stderr and exit status 1."""
    options = connection_options(args)
    transport = Transport(args.address, tls=options["tls"], api_key=options["api_key"], metadata=())
    async with transport.channel() as channel:
        admin = ad_grpc.AdminServiceStub(channel)  # type: ignore[no-untyped-call]
        action = ACTIONS[f"{args.command} {args.action}"]
        try:
            response = await action(admin, args, transport.metadata)
        except grpc.aio.AioRpcError as error:
            raise AdminError(_describe(error, args)) from None
    _show(response, args)
    return 0


class AdminError(Exception):
    """A refused or failed admin call, as one line for the user."""


def _describe(error: grpc.aio.AioRpcError, args: argparse.Namespace) -> str:
    if error.code() == grpc.StatusCode.UNAVAILABLE:
        return f"cannot reach the stepline server at {args.address} (is it running?)"
    if error.code() == grpc.StatusCode.UNAUTHENTICATED:
        return f"{error.details()} (give --api-key, or set {ENV_API_KEY})"
    return error.details() or error.code().name


def _retention(args: argparse.Namespace, message: Any) -> None:
    if args.retention is not None:
        message.retention.FromTimedelta(args.retention)


async def _create_namespace(admin: Admin, args: argparse.Namespace, meta: Any) -> Any:
    request = ad.CreateNamespaceRequest(namespace_id=args.name, description=args.description or "")
    _retention(args, request)
    return await admin.CreateNamespace(request, metadata=meta)


async def _update_namespace(admin: Admin, args: argparse.Namespace, meta: Any) -> Any:
    request = ad.UpdateNamespaceRequest(namespace_id=args.name)
    if args.description is not None:
        request.description = args.description
    _retention(args, request)
    return await admin.UpdateNamespace(request, metadata=meta)


async def _get_namespace(admin: Admin, args: argparse.Namespace, meta: Any) -> Any:
    return await admin.GetNamespace(ad.GetNamespaceRequest(namespace_id=args.name), metadata=meta)


async def _list_namespaces(admin: Admin, args: argparse.Namespace, meta: Any) -> Any:
    listed = ad.ListNamespacesResponse()
    token = ""
    while True:
        page = await admin.ListNamespaces(
            ad.ListNamespacesRequest(page_size=1000, page_token=token), metadata=meta
        )
        listed.namespaces.extend(page.namespaces)
        if not page.has_more:
            return listed
        token = page.next_page_token


async def _create_key(admin: Admin, args: argparse.Namespace, meta: Any) -> Any:
    role = f"ROLE_{args.role.upper()}"
    request = ad.CreateApiKeyRequest(namespace_id=args.namespace, name=args.name, role=role)
    return await admin.CreateApiKey(request, metadata=meta)


async def _list_keys(admin: Admin, args: argparse.Namespace, meta: Any) -> Any:
    request = ad.ListApiKeysRequest(namespace_id=args.namespace)
    return await admin.ListApiKeys(request, metadata=meta)


async def _revoke_key(admin: Admin, args: argparse.Namespace, meta: Any) -> Any:
    request = ad.RevokeApiKeyRequest(namespace_id=args.namespace, key_id=args.key_id)
    return await admin.RevokeApiKey(request, metadata=meta)


ACTIONS: dict[str, Callable[[Admin, argparse.Namespace, Any], Awaitable[Any]]] = {
    "namespaces create": _create_namespace,
    "namespaces get": _get_namespace,
    "namespaces list": _list_namespaces,
    "namespaces update": _update_namespace,
    "keys create": _create_key,
    "keys list": _list_keys,
    "keys revoke": _revoke_key,
}


def _show(response: Any, args: argparse.Namespace) -> None:
    if args.output == "json":
        render.print_json(json_format.MessageToDict(response))
        return
    if isinstance(response, ad.ListNamespacesResponse):
        render.show(_namespaces_table(response.namespaces))
    elif isinstance(response, ad.ListApiKeysResponse):
        render.show(_keys_table(response.api_keys))
    elif isinstance(response, ad.CreateApiKeyResponse):
        render.show(_keys_table([response.api_key]))
        # The secret alone on the last line: shown this once, for a script to capture.
        render.show(f"secret (shown once): {response.secret}")
    elif response.HasField("namespace"):
        render.show(_namespaces_table([response.namespace]))
    else:
        render.show(_keys_table([response.api_key]))


def _namespaces_table(namespaces: Any) -> Table:
    table = Table("NAMESPACE", "RETENTION", "CREATED", "DESCRIPTION", box=None)
    for n in namespaces:
        seconds = n.retention.ToTimedelta()
        retention = "forever" if not seconds else str(seconds)
        table.add_row(n.namespace_id, retention, _time(n.created_at), n.description)
    return table


def _keys_table(keys: Any) -> Table:
    table = Table(
        "KEY ID", "NAMESPACE", "NAME", "ROLE", "CREATED", "LAST USED", "REVOKED", box=None
    )
    for k in keys:
        role = access_pb2.Role.Name(k.role).removeprefix("ROLE_").lower()
        table.add_row(
            k.key_id,
            k.namespace_id,
            k.name,
            role,
            _time(k.created_at),
            _time(k.last_used_at) if k.HasField("last_used_at") else "-",
            _time(k.revoked_at) if k.HasField("revoked_at") else "-",
        )
    return table


def _time(stamp: Any) -> str:
    return render.when(stamp.ToDatetime())
