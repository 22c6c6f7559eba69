"""One kind of record inside a table partition, indexed oldest-first and newest-first.

Table storage only scans row keys upwards, so every record is written as two
identical rows in one atomic transaction: `<kind>-a-<id>` (ascending) and
`<kind>-d-<complement of id>` (descending, see `core.ids`). Any list request —
either order, `after` and/or `before` — is then one forward range scan of a
single partition, and new records never shift a cursor's position. The
ascending row is the master: updates are conditioned on its ETag and rewrite
both rows in the same transaction.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceNotFoundError
from azure.core.paging import ItemPaged
from azure.data.tables import TableClient, TableEntity, UpdateMode

from core import ids
from core.pagination import PageRequest

# One operation of an entity-group transaction, as `TableClient.submit_transaction` takes it: (kind, entity)
# or (kind, entity, options: the update mode, an ETag condition).
Operation = tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], dict[str, Any]]


class Collection:
    def __init__(self, kind: str):
        self.kind = kind

    def key(self, direction: str, object_id: str) -> str:
        body = ids.body(object_id)
        return f"{self.kind}-{direction}-{body if direction == 'a' else ids.descending(body)}"

    def _rows(self, partition: str, object_id: str, properties: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        ascending, descending = (
            {**properties, "PartitionKey": partition, "RowKey": self.key(direction, object_id), "id": object_id}
            for direction in ("a", "d")
        )
        return ascending, descending

    def create_ops(self, partition: str, object_id: str, properties: dict[str, Any]) -> list[Operation]:
        return [("create", row) for row in self._rows(partition, object_id, properties)]

    def replace_ops(self, partition: str, object_id: str, properties: dict[str, Any], etag: str) -> list[Operation]:
        """Rewrite both rows, provided the ascending row still has `etag`."""
        ascending, descending = self._rows(partition, object_id, properties)
        return [
            ("update", ascending, {"mode": UpdateMode.REPLACE, "etag": etag,
                                   "match_condition": MatchConditions.IfNotModified}),
            # "update", not "upsert": if the record was deleted meanwhile the whole
            # transaction fails instead of resurrecting half of it.
            ("update", descending, {"mode": UpdateMode.REPLACE}),
        ]

    def delete_ops(self, partition: str, object_id: str) -> list[Operation]:
        return [("delete", {"PartitionKey": partition, "RowKey": self.key(direction, object_id)})
                for direction in ("a", "d")]

    def get(self, table: TableClient, partition: str, object_id: str) -> TableEntity | None:
        try:
            return table.get_entity(partition, self.key("a", object_id))
        except ResourceNotFoundError:
            return None

    def page(self, table: TableClient, partition: str, request: PageRequest,
             where: str | None = None, parameters: dict[str, Any] | None = None) -> tuple[list[TableEntity], bool]:
        """Up to `request.limit` entities in the requested order, and whether more follow."""
        backwards = request.before is not None and request.after is None
        forward_order = request.order if not backwards else ("desc" if request.order == "asc" else "asc")
        direction = "a" if forward_order == "asc" else "d"
        lower, upper = (request.before, None) if backwards else (request.after, request.before)
        prefix = f"{self.kind}-{direction}-"
        query = "PartitionKey eq @pk and RowKey gt @lo and RowKey lt @hi"
        params = {
            **(parameters or {}),
            "pk": partition,
            "lo": self.key(direction, lower) if lower else prefix,
            "hi": self.key(direction, upper) if upper else prefix[:-1] + ".",
        }
        if where:  # a simple conjunction; the SDK's parameter substitution needs no parentheses
            query += f" and {where}"
        wanted = request.limit + 1
        rows = list(islice(table.query_entities(query, parameters=params, results_per_page=min(wanted, 1000)), wanted))
        has_more = len(rows) > request.limit
        rows = rows[: request.limit]
        if backwards:
            rows.reverse()
        return rows, has_more

    def scan(self, table: TableClient, partition: str, order: str = "asc",
             page_size: int = 1000, after: str | None = None) -> ItemPaged[TableEntity]:
        """Every entity of this kind in `order` (those after the id `after`, if given), fetched
        `page_size` at a time, lazily: the run engine reads history and steps in as few round trips
        as the service allows, a conversation's page no more than it shows."""
        direction = "a" if order == "asc" else "d"
        prefix = f"{self.kind}-{direction}-"
        return table.query_entities("PartitionKey eq @pk and RowKey gt @lo and RowKey lt @hi",
                                    parameters={"pk": partition, "lo": self.key(direction, after) if after else prefix,
                                                "hi": prefix[:-1] + "."},
                                    results_per_page=page_size)
