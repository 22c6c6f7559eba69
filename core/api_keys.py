"""API keys issued by the service: each bound to a principal and a display name, stored hashed.

A key is `aib-` followed by 32 random bytes (base64url), shown once when it is
created. Only its SHA-256 is stored, as the row key of the `apikeys` table, so a
request's key is checked with one point read. A fast unsalted hash is enough
here, unlike for passwords: a 256-bit random key cannot be guessed or found in a
dictionary, so slowing the hash down would protect nothing and would cost every
request; the stored hashes are useless to someone who reads the table.

Admin command (also `make key`, `make keys`, `make revoke-key`):

    python -m core.api_keys create --principal PRINCIPAL --name NAME [--quiet]
    python -m core.api_keys list
    python -m core.api_keys revoke KEY_ID

It talks to the storage the app uses (`AzureWebJobsStorage`, or the identity-based
`AzureWebJobsStorage__accountName` with the caller's Azure CLI login), reading
`local.settings.json` when run from a checkout, as `make run` does.
"""

from __future__ import annotations

import hashlib
import secrets
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from core.collection import Operation
from core.store import Store
from core.transactions import submit

KEY_PREFIX = "aib-"
TABLE = "apikeys"
PARTITION = "key"
KEY_ID_LENGTH = 12  # hex digits of the hash that name a key in listings and revocations


@dataclass(frozen=True)
class KeyRecord:
    """A key as listed and revoked: what the operator knows it by, never the key itself (only its hash is stored)."""

    key_id: str
    principal: str
    name: str
    hint: str
    created_at: int
    revoked_at: int | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def looks_like_key(value: str) -> bool:
    """Whether a presented credential is in our key format (anything else is not ours to look up)."""
    return value.startswith(KEY_PREFIX) and 20 < len(value) < 200 and value.isascii()


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def hint(key: str) -> str:
    return f"{key[:len(KEY_PREFIX) + 4]}...{key[-4:]}"


def _record(entity: dict[str, Any]) -> KeyRecord:
    revoked = entity.get("revoked_at")
    return KeyRecord(key_id=entity["RowKey"][:KEY_ID_LENGTH], principal=entity["principal"], name=entity["name"],
                     hint=entity["hint"], created_at=int(entity["created_at"]),
                     revoked_at=int(revoked) if revoked else None)


class KeyStore:
    def __init__(self, store: Store):
        self._store = store

    @property
    def _table(self) -> TableClient:
        return self._store.table(TABLE)

    def create(self, principal: str, name: str) -> tuple[str, KeyRecord]:
        """A new key for `principal`; the key itself is returned here and never again."""
        if not principal.strip() or not name.strip():
            raise ValueError("a key needs a principal and a display name")
        key = new_key()
        entity = {"PartitionKey": PARTITION, "RowKey": key_hash(key), "principal": principal, "name": name,
                  "hint": hint(key), "created_at": int(time.time())}
        self._write(("create", entity))
        return key, _record(entity)

    def _write(self, operation: Operation) -> None:
        """Write one row as a transaction (core.transactions.submit): one whose answer was lost (a reset,
        a 5xx answered after committing) is told apart by the row's write token, so it succeeds once
        and a create never meets itself as a conflict."""
        submit(self._table, [operation])

    def principal_for(self, key: str) -> str | None:
        """The principal an active key is bound to; None for unknown, revoked or malformed keys."""
        if not looks_like_key(key):
            return None
        try:
            entity = self._table.get_entity(PARTITION, key_hash(key))
        except ResourceNotFoundError:
            return None
        return None if entity.get("revoked_at") else entity["principal"]

    def list(self) -> list[KeyRecord]:
        entities = self._table.query_entities("PartitionKey eq @p", parameters={"p": PARTITION})
        return sorted((_record(e) for e in entities), key=lambda r: (r.created_at, r.key_id))

    def revoke(self, key_id: str) -> KeyRecord:
        """Revoke the key named by `key_id` (the id `list` shows); the row stays, for the record."""
        matches = [e for e in self._table.query_entities("PartitionKey eq @p", parameters={"p": PARTITION})
                   if e["RowKey"].startswith(key_id.lower())] if len(key_id) >= 8 else []
        if len(matches) != 1:
            raise LookupError(f"no single key has the id {key_id!r}")
        entity = matches[0]
        if not entity.get("revoked_at"):
            entity["revoked_at"] = int(time.time())
            revoked = {"PartitionKey": entity["PartitionKey"], "RowKey": entity["RowKey"],
                       "revoked_at": entity["revoked_at"]}
            self._write(("update", revoked, {"mode": UpdateMode.MERGE}))
        return _record(entity)


@lru_cache(maxsize=1)
def default_keys() -> KeyStore:
    """The process-wide key store on the app's storage."""
    from core.store import default_store

    return KeyStore(default_store())


def main(argv: list[str] | None = None, keys: KeyStore | None = None) -> int:
    import argparse  # the command line only: the app never parses arguments

    parser = argparse.ArgumentParser(prog="python -m core.api_keys", description="Issue, list and revoke API keys.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="issue a key bound to a principal (printed once)")
    create.add_argument("--principal", required=True, help="who the key acts as: their objects are its objects")
    create.add_argument("--name", required=True, help="display name, e.g. who holds the key")
    create.add_argument("--quiet", action="store_true", help="print only the key (for scripts)")
    commands.add_parser("list", help="list keys (never the keys themselves)")
    revoke = commands.add_parser("revoke", help="revoke a key by the id `list` shows")
    revoke.add_argument("key_id")
    args = parser.parse_args(argv)
    if keys is None:
        from pathlib import Path

        from core.settings import load_local_file  # a checkout's local.settings.json, env wins

        if (Path.cwd() / "local.settings.json").exists():
            load_local_file(Path.cwd())
        keys = default_keys()
    if args.command == "create":
        key, record = keys.create(args.principal, args.name)
        if args.quiet:
            print(key)
        else:
            print(f"Key {record.key_id} for principal {record.principal!r} ({record.name}):\n\n    {key}\n\n"
                  "Store it now: it is not shown again. Send it as `api-key: KEY` or `Authorization: Bearer KEY`.")
    elif args.command == "list":
        print(f"{'id':<{KEY_ID_LENGTH}}  {'status':<7}  {'created (UTC)':<19}  {'key':<16}  principal / name")
        for record in keys.list():
            created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.created_at))
            status = "active" if record.active else "revoked"
            print(f"{record.key_id}  {status:<7}  {created}  {record.hint:<16}  {record.principal} / {record.name}")
    else:
        try:
            record = keys.revoke(args.key_id)
        except LookupError as error:
            print(error, file=sys.stderr)
            return 1
        print(f"Key {record.key_id} ({record.principal} / {record.name}) is revoked.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
