"""Issuing and revoking an API key when the storage account commits the write and its answer is lost:
one row, told success, not a conflict with itself (core/api_keys.py)."""

from __future__ import annotations

from core.api_keys import KeyStore
from core.storage_connection import StorageConnection
from core.store import Store
from tests.support.storage_faults import FaultRates, StorageFaultProxy


def _key_writes(service: str, verb: str, path: str) -> bool:
    """A key's write: a transaction (core.transactions), the only kind this test's store sends."""
    return service == "Table" and verb == "POST" and path.split("?", 1)[0].endswith("/$batch")


def test_a_key_whose_create_and_revoke_answers_are_lost_is_stored_once(azurite):
    proxy = StorageFaultProxy(azurite.ports, FaultRates(), seed=5)
    try:
        keys = KeyStore(Store(StorageConnection(proxy.connection_string, None, None)))
        proxy.plan("drop", _key_writes, times=2)  # the create, and a resend of it
        key, record = keys.create("principal-lost-answers", "laptop")
        assert proxy.faults["drop"] >= 1
        assert keys.principal_for(key) == "principal-lost-answers"
        assert [r.key_id for r in keys.list()].count(record.key_id) == 1

        proxy.plan("drop", _key_writes, times=2)
        dropped = proxy.faults["drop"]
        revoked = keys.revoke(record.key_id)
        assert proxy.faults["drop"] > dropped
        assert revoked.revoked_at is not None and keys.principal_for(key) is None
        [stored] = [r for r in keys.list() if r.key_id == record.key_id]
        assert stored.revoked_at == revoked.revoked_at and stored.name == "laptop"
    finally:
        proxy.stop()


def test_a_key_create_refused_busy_is_sent_again(azurite):
    proxy = StorageFaultProxy(azurite.ports, FaultRates(), seed=6)
    try:
        keys = KeyStore(Store(StorageConnection(proxy.connection_string, None, None)))
        proxy.plan("reset", _key_writes, times=3)
        key, _ = keys.create("principal-busy", "ci")
        assert proxy.faults["reset"] >= 1 and keys.principal_for(key) == "principal-busy"
    finally:
        proxy.stop()
