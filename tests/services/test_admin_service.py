"""AdminService: namespaces (create, get, list, update) and API keys (create, list,
revoke), through a real server (auth off: who may call it is tests/access)."""

from __future__ import annotations

import secrets

import grpc

from stepline.v1 import access_pb2
from stepline.v1 import admin_service_pb2 as ad
from tests.services.conftest import Api
from tests.services.helpers import expect_error, seconds, start

NOT_FOUND, INVALID = grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT


def _fresh() -> str:
    return f"adm-{secrets.token_hex(5)}"


async def test_namespaces__default_exists_after_migration(api: Api) -> None:
    found = await api.admin.GetNamespace(ad.GetNamespaceRequest(namespace_id="default"))
    assert found.namespace.namespace_id == "default"
    assert found.namespace.retention.ToSeconds() == 0


async def test_namespaces__create_get_update(api: Api) -> None:
    name = _fresh()
    created = await api.admin.CreateNamespace(
        ad.CreateNamespaceRequest(namespace_id=name, description="billing", retention=seconds(60))
    )
    assert created.namespace.description == "billing"
    assert created.namespace.retention.ToSeconds() == 60
    assert created.namespace.HasField("created_at")
    updated = await api.admin.UpdateNamespace(
        ad.UpdateNamespaceRequest(namespace_id=name, retention=seconds(0))
    )
    assert updated.namespace.description == "billing"  # unset: unchanged
    assert updated.namespace.retention.ToSeconds() == 0
    got = await api.admin.GetNamespace(ad.GetNamespaceRequest(namespace_id=name))
    assert got.namespace == updated.namespace
    await start(api, name)  # and runs may start in it at once


async def test_namespaces__creating_twice_is_already_exists(api: Api) -> None:
    name = _fresh()
    await api.admin.CreateNamespace(ad.CreateNamespaceRequest(namespace_id=name))
    again = api.admin.CreateNamespace(ad.CreateNamespaceRequest(namespace_id=name))
    await expect_error(again, grpc.StatusCode.ALREADY_EXISTS, "NAMESPACE_ALREADY_EXISTS")


async def test_namespaces__bad_fields_are_invalid(api: Api) -> None:
    for request in (
        ad.CreateNamespaceRequest(namespace_id=""),
        ad.CreateNamespaceRequest(namespace_id="a b"),
        ad.CreateNamespaceRequest(namespace_id="*"),
        ad.CreateNamespaceRequest(namespace_id=_fresh(), retention=seconds(-1)),
    ):
        await expect_error(api.admin.CreateNamespace(request), INVALID, "INVALID_ARGUMENT")


async def test_namespaces__unknown_is_not_found(api: Api) -> None:
    for call in (
        api.admin.GetNamespace(ad.GetNamespaceRequest(namespace_id=_fresh())),
        api.admin.UpdateNamespace(ad.UpdateNamespaceRequest(namespace_id=_fresh())),
        api.admin.ListApiKeys(ad.ListApiKeysRequest(namespace_id=_fresh())),
    ):
        await expect_error(call, NOT_FOUND, "NAMESPACE_NOT_FOUND")


async def test_namespaces__list_pages_in_id_order(api: Api) -> None:
    prefix = _fresh()
    for suffix in "abc":
        await api.admin.CreateNamespace(
            ad.CreateNamespaceRequest(namespace_id=f"{prefix}-{suffix}")
        )
    seen: list[str] = []
    token = ""
    while True:
        page = await api.admin.ListNamespaces(
            ad.ListNamespacesRequest(page_size=2, page_token=token)
        )
        seen.extend(n.namespace_id for n in page.namespaces)
        if not page.has_more:
            break
        token = page.next_page_token
    assert seen == sorted(seen)
    assert [f"{prefix}-{s}" for s in "abc"] == [n for n in seen if n.startswith(prefix)]
    bad = api.admin.ListNamespaces(ad.ListNamespacesRequest(page_token="%%%"))
    await expect_error(bad, INVALID, "INVALID_ARGUMENT")


async def test_keys__created_listed_without_secret_and_revoked(api: Api, ns: str) -> None:
    created = await api.admin.CreateApiKey(
        ad.CreateApiKeyRequest(namespace_id=ns, name="ci", role=access_pb2.ROLE_CLIENT)
    )
    secret = created.secret
    assert secret.startswith(f"stepline_{created.api_key.key_id}_")
    assert len(secret) >= len("stepline_") + 16 + 1 + 43  # 256 random bits
    listed = await api.admin.ListApiKeys(ad.ListApiKeysRequest(namespace_id=ns))
    assert [k.key_id for k in listed.api_keys] == [created.api_key.key_id]
    assert secret not in str(listed) and secret[-43:] not in listed.SerializeToString().decode(
        errors="replace"
    )
    assert listed.api_keys[0].role == access_pb2.ROLE_CLIENT
    assert not listed.api_keys[0].HasField("revoked_at")
    request = ad.RevokeApiKeyRequest(namespace_id=ns, key_id=created.api_key.key_id)
    revoked = await api.admin.RevokeApiKey(request)
    assert revoked.api_key.HasField("revoked_at")
    again = await api.admin.RevokeApiKey(request)  # no error, the first time stands
    assert again.api_key.revoked_at == revoked.api_key.revoked_at


async def test_keys__errors(api: Api, ns: str) -> None:
    no_role = ad.CreateApiKeyRequest(namespace_id=ns, name="x")
    await expect_error(api.admin.CreateApiKey(no_role), INVALID, "INVALID_ARGUMENT", "role")
    no_name = ad.CreateApiKeyRequest(namespace_id=ns, role=access_pb2.ROLE_READER)
    await expect_error(api.admin.CreateApiKey(no_name), INVALID, "INVALID_ARGUMENT", "name")
    unknown = ad.RevokeApiKeyRequest(namespace_id=ns, key_id="0" * 16)
    await expect_error(api.admin.RevokeApiKey(unknown), NOT_FOUND, "API_KEY_NOT_FOUND")
    elsewhere = await api.admin.CreateApiKey(
        ad.CreateApiKeyRequest(namespace_id="*", name="op", role=access_pb2.ROLE_ADMIN)
    )
    assert elsewhere.api_key.namespace_id == "*"
    wrong = ad.RevokeApiKeyRequest(namespace_id=ns, key_id=elsewhere.api_key.key_id)
    await expect_error(api.admin.RevokeApiKey(wrong), NOT_FOUND, "API_KEY_NOT_FOUND")
