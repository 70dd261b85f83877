"""Page tokens: round trip, tamper evidence, and binding to their query."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import grpc
import pytest

from services import page_tokens
from services.errors import ApiError
from storage.records import Cursor

CURSOR = Cursor(
    created_at=datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC),
    id="01a213e7-5c6c-7d4e-950c-fa951507b6ba",
    forward=False,
)
SCOPE = page_tokens.scope_of("runs", "default", ["PENDING"], None)


def test_round_trip_keeps_the_key_to_the_microsecond() -> None:
    assert page_tokens.decode(page_tokens.encode(CURSOR, SCOPE), SCOPE) == CURSOR


def test_empty_token_means_the_first_page() -> None:
    assert page_tokens.decode("", SCOPE) is None


def test_scope_depends_on_every_part() -> None:
    assert page_tokens.scope_of("runs", "default", ["FAILED"], None) != SCOPE
    assert page_tokens.scope_of("runs", "other", ["PENDING"], None) != SCOPE


def _flip_every_byte(token: str) -> list[str]:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    variants = []
    for i in range(len(raw)):
        changed = raw[:i] + bytes([raw[i] ^ 0x01]) + raw[i + 1 :]
        variants.append(base64.urlsafe_b64encode(changed).rstrip(b"=").decode())
    return variants


@pytest.mark.parametrize(
    "bad",
    ["%%%", "abc", "AAAA" * 20, "e30"],  # not base64, too short, zeros, "{}" unsealed
)
def test_garbage_is_invalid_page_token(bad: str) -> None:
    with pytest.raises(ApiError) as caught:
        page_tokens.decode(bad, SCOPE)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.reason_name == "INVALID_PAGE_TOKEN"


def test_any_single_bit_flip_is_detected() -> None:
    token = page_tokens.encode(CURSOR, SCOPE)
    for variant in _flip_every_byte(token):
        with pytest.raises(ApiError):
            page_tokens.decode(variant, SCOPE)


def test_token_of_another_query_is_rejected() -> None:
    token = page_tokens.encode(CURSOR, SCOPE)
    other = page_tokens.scope_of("runs", "default", [], None)
    with pytest.raises(ApiError) as caught:
        page_tokens.decode(token, other)
    assert "different query" in caught.value.message
