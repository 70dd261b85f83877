"""The access interceptor on shapes of RPC the contract does not have yet: a
server-streaming RPC is checked before its first message, and a stepline RPC without a
declared permission is refused (fail closed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import wrappers_pb2

from services import api_keys
from services.access import Access, AccessInterceptor
from services.key_cache import KeyCache
from stepline.v1 import access_pb2
from storage import create_store
from storage.access import ANY_NAMESPACE, Role

WATCH = "/stepline.v1.Fake/Watch"
UNDECLARED = "/stepline.v1.Fake/Undeclared"
Text = wrappers_pb2.StringValue


async def _watch(request: Text, context: Any) -> AsyncIterator[Text]:
    for n in range(3):
        yield Text(value=f"{request.value}-{n}")


async def _echo(request: Text, context: Any) -> Text:
    return request


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[grpc.aio.Channel, str]]:
    store = create_store(f"sqlite:///{tmp_path / 'access.db'}")
    await store.start()
    await store.migrate()
    # Fake's messages name no namespace: only an operator key (namespace "*") may call.
    _, secret = await api_keys.issue(store, ANY_NAMESPACE, "t", Role.READER)
    access = Access(KeyCache(store), required=True)
    access.permissions[WATCH] = access_pb2.PERMISSION_READ
    server = grpc.aio.server(interceptors=[AccessInterceptor(access)])
    handlers = {
        "Watch": grpc.unary_stream_rpc_method_handler(
            _watch, Text.FromString, Text.SerializeToString
        ),
        "Undeclared": grpc.unary_unary_rpc_method_handler(
            _echo, Text.FromString, Text.SerializeToString
        ),
    }
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("stepline.v1.Fake", handlers),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel, secret
    finally:
        await server.stop(None)
        await store.close()


async def test_a_server_stream_is_checked_before_its_first_message(
    served: tuple[grpc.aio.Channel, str],
) -> None:
    channel, secret = served
    watch = channel.unary_stream(WATCH, Text.SerializeToString, Text.FromString)
    keyed = watch(Text(value="w"), metadata=(("authorization", f"Bearer {secret}"),))
    assert [m.value async for m in keyed] == ["w-0", "w-1", "w-2"]
    unkeyed = watch(Text(value="w"))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await unkeyed.read()  # the refusal comes before any message
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_an_rpc_without_a_declared_permission_is_refused(
    served: tuple[grpc.aio.Channel, str],
) -> None:
    channel, secret = served
    echo = channel.unary_unary(UNDECLARED, Text.SerializeToString, Text.FromString)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await echo(Text(value="x"), metadata=(("authorization", f"Bearer {secret}"),))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
