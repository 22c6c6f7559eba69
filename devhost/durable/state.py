"""What devhost persists per orchestration instance, and where.

One JSON blob per instance holds its status, history and the host-side
bookkeeping (inbox of undelivered messages, pending activities and timers,
retry chains). Writing it after every episode is what lets in-flight
orchestrations resume after devhost restarts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

ACTIVE_STATUSES = ("Pending", "Running")


@dataclass
class InstanceState:
    instance_id: str
    name: str
    execution_id: str
    input: Any  # the JSON value the host passes as the context's input
    created_time: str
    last_updated_time: str
    status: str = "Pending"
    output: Any = None
    custom_status: Any = None
    history: list[dict[str, Any]] = field(default_factory=list)
    # Messages delivered durably but not yet replayed into history.
    inbox: list[dict[str, Any]] = field(default_factory=list)
    # [actionType, name, sequence] per action the orchestrator has emitted, in order.
    scheduled: list[list[Any]] = field(default_factory=list)
    next_sequence: int = 0
    pending_activities: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending_timers: dict[str, str] = field(default_factory=dict)
    retry_chains: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def to_bytes(self) -> bytes:
        # fields as they are (json.dumps copies nothing), not dataclasses.asdict's deep copy of the whole history
        return json.dumps({f.name: getattr(self, f.name) for f in fields(self)}, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> "InstanceState":
        return cls(**json.loads(data))


def _container_name(hub_name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9-]", "", hub_name.lower()) or "hub"
    return f"{cleaned[:40]}-devhost-instances"


class InstanceStore:
    """Instance blobs in one container per task hub; blob metadata carries the status."""

    def __init__(self, blob_service, hub_name: str):
        self._container = blob_service.get_container_client(_container_name(hub_name))
        try:
            self._container.create_container()
        except ResourceExistsError:
            pass

    def save(self, state: InstanceState, data: bytes) -> None:
        self._container.upload_blob(
            state.instance_id, data, overwrite=True, metadata={"status": state.status})

    def load(self, instance_id: str) -> InstanceState | None:
        try:
            return InstanceState.from_bytes(self._container.download_blob(instance_id).readall())
        except ResourceNotFoundError:
            return None

    def active_instance_ids(self) -> list[str]:
        return [blob.name for blob in self._container.list_blobs(include=["metadata"])
                if (blob.metadata or {}).get("status") in ACTIVE_STATUSES]

    def delete(self, instance_id: str) -> bool:
        try:
            self._container.delete_blob(instance_id)
            return True
        except ResourceNotFoundError:
            return False
