"""The server's cache of API key records and known namespaces.

A key record is kept for at most KEY_TTL (1 s): a revocation committed on any server is
seen by every server within that second, and a worker stream, which re-checks its key
every STREAM_RECHECK (1 s), ends within 2 s of it. A key ID nobody has is cached as
missing for the same time, so guessing keys costs one indexed read a second per guess
at most, and never a write. Namespaces are never deleted, so a namespace once found is
known for good; one not found is looked up again at each call.

last_used_at is written at most once a minute per key and server, after the call was
authenticated, in the background: a failed authentication writes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time

from storage import NamespaceNotFound, Store, StoreError
from storage.access import ApiKey

log = logging.getLogger(__name__)

KEY_TTL = 1.0
STREAM_RECHECK = 1.0
LAST_USED_EVERY = 60.0
_MAX_ENTRIES = 10_000


class KeyCache:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._keys: dict[str, tuple[ApiKey | None, float]] = {}
        self._touched: dict[str, float] = {}
        self._namespaces: set[str] = set()
        self._touches: set[asyncio.Task[None]] = set()

    async def key(self, key_id: str) -> ApiKey | None:
        """The key's record, at most KEY_TTL old; None when there is no such key."""
        now = time.monotonic()
        cached = self._keys.get(key_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        record = await self._store.api_key_get(key_id)
        if len(self._keys) >= _MAX_ENTRIES:
            self._keys = {k: v for k, v in self._keys.items() if v[1] > now}
            if len(self._keys) >= _MAX_ENTRIES:
                self._keys.clear()  # a flood of guesses: start over rather than grow
        self._keys[key_id] = (record, now + KEY_TTL)
        return record

    def used(self, key_id: str) -> None:
        """Record that an authenticated call used the key (last_used_at, once a minute)."""
        now = time.monotonic()
        if self._touched.get(key_id, -LAST_USED_EVERY) + LAST_USED_EVERY > now:
            return
        self._touched[key_id] = now
        task = asyncio.create_task(self._touch(key_id))
        self._touches.add(task)
        task.add_done_callback(self._touches.discard)

    async def _touch(self, key_id: str) -> None:
        try:
            await self._store.api_key_touch([key_id])
        except StoreError as exc:  # a best-effort note: the call itself succeeded
            log.warning("could not record the last use of API key %s: %s", key_id, exc)

    async def namespace_exists(self, namespace_id: str) -> bool:
        if namespace_id in self._namespaces:
            return True
        try:
            await self._store.namespace_get(namespace_id)
        except NamespaceNotFound:
            return False
        self._namespaces.add(namespace_id)
        return True

    def namespace_created(self, namespace_id: str) -> None:
        self._namespaces.add(namespace_id)

    async def close(self) -> None:
        if self._touches:
            await asyncio.gather(*self._touches, return_exceptions=True)
