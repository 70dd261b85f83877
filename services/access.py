"""The one access check of every stepline RPC, as a server interceptor.

For each call, before its handler runs:
1. with auth required, the caller's key (`authorization: Bearer <secret>`) must be
   well-formed, known, unrevoked and match its stored hash, else UNAUTHENTICATED;
2. its role and namespace must grant the RPC's `required_permission` in the namespace
   the request names (services/permissions.py), else PERMISSION_DENIED — said before
   anything about that namespace, so a key of A learns nothing of B;
3. the namespace named must exist, else NOT_FOUND, NAMESPACE_NOT_FOUND (auth on or off).

The worker stream is checked on its opening message, each later call's lease is
checked against the key, and the key is re-checked every second while the stream
lives: a revoked key ends it with UNAUTHENTICATED within 2 s.

Health and reflection are not stepline services and pass untouched.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import Message

from services import api_keys, permissions
from services import validation as v
from services.errors import ApiError, Reason, api_error
from services.key_cache import STREAM_RECHECK, KeyCache
from stepline.v1 import error_reason_pb2
from storage.access import ANY_NAMESPACE, ApiKey

Context = grpc.aio.ServicerContext[Any, Any]
Behavior = Callable[[Any, Context], Awaitable[Any]]
_STEPLINE = "/stepline.v1."


def unauthenticated(message: str) -> ApiError:
    return ApiError(
        grpc.StatusCode.UNAUTHENTICATED, error_reason_pb2.ERROR_REASON_UNAUTHENTICATED, message
    )


def denied(method: str, namespace: str | None) -> ApiError:
    where = "" if namespace is None else f" in namespace {namespace}"
    message = f"the API key may not call {method.rsplit('/', 1)[-1]}{where}"
    return ApiError(
        grpc.StatusCode.PERMISSION_DENIED, error_reason_pb2.ERROR_REASON_PERMISSION_DENIED, message
    )


def namespace_not_found(namespace: str) -> ApiError:
    reason: Reason = error_reason_pb2.ERROR_REASON_NAMESPACE_NOT_FOUND
    meta = {"namespace_id": namespace}
    return ApiError(grpc.StatusCode.NOT_FOUND, reason, f"namespace {namespace} not found", meta)


def _secret(metadata: Any) -> str:
    """The bearer secret of the call's metadata; UNAUTHENTICATED without one. The secret
    itself never goes into an error, a log line or a span."""
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            secret = api_keys.bearer(value)
            if secret is None:
                break
            return secret
    raise unauthenticated("an API key is required: send 'authorization: Bearer <key>'")


class Access:
    """Authentication, authorization and the namespace check, for one server."""

    def __init__(self, cache: KeyCache, required: bool) -> None:
        self.cache = cache
        self.required = required
        self.permissions = permissions.method_permissions()

    async def authenticate(self, metadata: Any) -> ApiKey:
        secret = _secret(metadata)
        key_id = api_keys.key_id_of(secret)
        record = None if key_id is None else await self.cache.key(key_id)
        # One answer for every way a key fails: it tells a guesser nothing.
        if (
            record is None
            or record.revoked_at is not None
            or not api_keys.matches(secret, record.secret_sha256)
        ):
            raise unauthenticated("the API key is not valid: unknown, malformed or revoked")
        return record

    async def still_valid(self, key: ApiKey) -> bool:
        record = await self.cache.key(key.key_id)
        return record is not None and record.revoked_at is None

    async def check(self, method: str, metadata: Any, request: Message) -> ApiKey | None:
        """The key that may make this call (None with auth off); raises ApiError."""
        permission = self.permissions[method]
        namespace = permissions.namespace_of(request)
        key = None
        if self.required:
            key = await self.authenticate(metadata)
            self.allow(key, method, namespace)
            self.cache.used(key.key_id)
        if namespace is not None and permissions.checks_existence(permission):
            await self._exists(method, namespace)
        return key

    def allow(self, key: ApiKey, method: str, namespace: str | None) -> None:
        permission = self.permissions[method]
        if not permissions.allows(key.role, key.namespace_id, permission, namespace):
            raise denied(method, namespace)

    async def _exists(self, method: str, namespace: str) -> None:
        if namespace == ANY_NAMESPACE and permissions.accepts_any_namespace(method):
            return
        try:
            v.namespace(namespace)
        except ApiError:
            return  # malformed: the handler answers INVALID_ARGUMENT naming the field
        if not await self.cache.namespace_exists(namespace):
            raise namespace_not_found(namespace)


async def abort(context: Context, error: ApiError) -> None:
    status = error.to_status()
    await context.abort(status.code, status.details, status.trailing_metadata)


class AccessInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Wraps each stepline handler in the access check; the last interceptor, so that
    tracing and log lines see refused calls too."""

    def __init__(self, access: Access) -> None:
        self._access = access

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not method.startswith(_STEPLINE):
            return handler
        if method not in self._access.permissions:  # fail closed: no declared permission
            return grpc.unary_unary_rpc_method_handler(_refuse(method))
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._unary_stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(
                self._stream(method, handler.stream_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return grpc.unary_unary_rpc_method_handler(_refuse(method))

    def _unary(self, method: str, behavior: Behavior) -> Behavior:
        access = self._access

        async def call(request: Any, context: Context) -> Any:
            try:
                await access.check(method, context.invocation_metadata(), request)
            except Exception as exc:  # a refusal, or the database down (UNAVAILABLE)
                await abort(context, api_error(exc, method))
            return await behavior(request, context)

        return call

    def _unary_stream(self, method: str, behavior: Any) -> Any:
        """A server-streaming RPC: checked as a unary call, before its first message."""
        access = self._access

        async def call(request: Any, context: Context) -> AsyncIterator[Any]:
            try:
                await access.check(method, context.invocation_metadata(), request)
            except Exception as exc:
                await abort(context, api_error(exc, method))
            answered = behavior(request, context)
            if hasattr(answered, "__aiter__"):
                async for message in answered:
                    yield message
            else:  # a handler that writes with context.write()
                await answered

        return call

    def _stream(self, method: str, behavior: Behavior) -> Behavior:
        access = self._access

        async def call(request_iterator: Any, context: Context) -> Any:
            guard = StreamGuard(access, method, context)
            work = asyncio.ensure_future(behavior(request_iterator, guard))  # type: ignore[arg-type]
            guard.work = work
            try:
                return await work
            except asyncio.CancelledError:
                if guard.revoked is None:
                    raise
                await abort(context, guard.revoked)
            finally:
                guard.stop()

        return call


def _refuse(method: str) -> Behavior:
    async def call(request: Any, context: Context) -> Any:
        await abort(context, denied(method, None))

    return call


class StreamGuard:
    """The stream handler's context, checking what it reads: the opening message as a
    unary call, then each call's lease against the key; and the key, every second."""

    def __init__(self, access: Access, method: str, context: Context) -> None:
        self._access = access
        self._method = method
        self._context = context
        self._key: ApiKey | None = None
        self._opened = False
        self._watcher: asyncio.Task[None] | None = None
        self.work: asyncio.Future[Any] | None = None
        self.revoked: ApiError | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    async def read(self) -> Any:
        message = await self._context.read()
        if message is grpc.aio.EOF:  # type: ignore[attr-defined]
            return message
        try:
            if not self._opened:
                self._opened = True
                metadata = self._context.invocation_metadata()
                self._key = await self._access.check(self._method, metadata, message)
                if self._key is not None:
                    self._watcher = asyncio.create_task(self._watch(self._key))
            elif self._key is not None:
                for call in getattr(message, "calls", ()):
                    kind = call.WhichOneof("call")
                    if kind is not None:  # else the handler answers INVALID_ARGUMENT
                        namespace = permissions.namespace_of(getattr(call, kind))
                        self._access.allow(self._key, self._method, namespace)
        except Exception as exc:
            await abort(self._context, api_error(exc, self._method))
        return message

    async def _watch(self, key: ApiKey) -> None:
        while True:
            await asyncio.sleep(STREAM_RECHECK)
            if not await self._access.still_valid(key):
                self.revoked = unauthenticated("the API key was revoked")
                if self.work is not None:
                    self.work.cancel()
                return

    def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
