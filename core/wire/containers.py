"""The Containers API's wire: request bodies, the `container` and `container.file` objects, and expiry.

A container is the code interpreter's sandbox as OpenAI exposes it: a name, a memory size, files at
`/mnt/data/<name>`, and an idle expiry counted from `last_active_at`. Its status is never stored:
`container_status` computes it from the record and the clock whenever the container is read, so no
sweep has to run for a container to read `expired` on time.
"""


from typing import Annotated, Any, Literal, Union

from pydantic import Field, StringConstraints, field_validator

from core.wire.common import RequestModel, WireModel, openai_error

MemoryLimit = Literal["1g", "4g", "16g", "64g"]
DEFAULT_MEMORY_LIMIT: MemoryLimit = "1g"
DEFAULT_EXPIRY_MINUTES = 20
MAX_EXPIRY_MINUTES = 1440  # a day of idleness at most
MAX_NAME_CHARS = 256
MAX_CREATE_FILE_IDS = 100  # each is copied within the create request
MAX_FILES_PER_CONTAINER = 1000
MOUNT = "/mnt/data"
FileSource = Literal["user", "assistant"]
ContainerStatus = Literal["running", "expired"]


# ---- requests ---------------------------------------------------------------------------------

class ContainerExpiresAfter(RequestModel):
    anchor: Literal["last_active_at"]
    minutes: int = Field(ge=1, le=MAX_EXPIRY_MINUTES)


class NetworkPolicyDisabled(RequestModel):
    type: Literal["disabled"]


class DomainSecret(RequestModel):
    domain: str
    name: str
    value: str


class NetworkPolicyAllowlist(RequestModel):
    type: Literal["allowlist"]
    allowed_domains: list[str]
    domain_secrets: list[DomainSecret] | None = None


NetworkPolicy = Annotated[Union[NetworkPolicyDisabled, NetworkPolicyAllowlist], Field(discriminator="type")]


class ContainerCreate(RequestModel):
    """POST /containers. The sandbox has no network and no skills, so only their absence is accepted."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_CHARS)]
    expires_after: ContainerExpiresAfter | None = None
    file_ids: list[str] = Field(default_factory=list, max_length=MAX_CREATE_FILE_IDS)
    memory_limit: MemoryLimit = DEFAULT_MEMORY_LIMIT
    network_policy: NetworkPolicy | None = None
    skills: list[dict[str, Any]] | None = None

    @field_validator("network_policy")
    @classmethod
    def _no_network(cls, policy: NetworkPolicyDisabled | NetworkPolicyAllowlist | None) -> NetworkPolicyDisabled | None:
        if isinstance(policy, NetworkPolicyAllowlist):
            raise openai_error("Invalid 'network_policy': containers here have no network access; only "
                               "{'type': 'disabled'} is supported.", "unsupported_value")
        return policy

    @field_validator("skills")
    @classmethod
    def _no_skills(cls, skills: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        if skills:
            raise openai_error("Invalid 'skills': skills are not supported by this server's containers.",
                               "unsupported_value")
        return skills


class ContainerFileCreate(RequestModel):
    """POST /containers/{id}/files as JSON: copy a file of the Files API into the container."""

    file_id: str


class ContainerFileUpload(WireModel):
    """POST /containers/{id}/files as multipart/form-data (documentation only); JSON `{"file_id"}` also works."""

    file: bytes


# ---- objects ----------------------------------------------------------------------------------

class ContainerExpiry(WireModel):
    anchor: Literal["last_active_at"] = "last_active_at"
    minutes: int


class ContainerObject(WireModel):
    id: str
    object: Literal["container"] = "container"
    created_at: int
    status: ContainerStatus
    expires_after: ContainerExpiry
    last_active_at: int
    name: str
    memory_limit: MemoryLimit


class ContainerFileObject(WireModel):
    id: str
    object: Literal["container.file"] = "container.file"
    created_at: int
    bytes: int
    container_id: str
    path: str
    source: FileSource


# ---- constructors and rules -------------------------------------------------------------------

def container_record(container_id: str, *, name: str, created_at: int, expires_after_minutes: int,
                     memory_limit: str) -> dict[str, Any]:
    """The stored container: the object without its status (which `container_status` computes)."""
    return {"id": container_id, "object": "container", "created_at": created_at,
            "expires_after": {"anchor": "last_active_at", "minutes": expires_after_minutes},
            "last_active_at": created_at, "name": name, "memory_limit": memory_limit}


def container_object(record: dict[str, Any], now: int) -> dict[str, Any]:
    """The `container` object as read at `now`."""
    return ContainerObject.model_validate({**record, "status": container_status(record, now)}).model_dump(mode="json")


def container_status(record: dict[str, Any], now: int) -> ContainerStatus:
    """"running" until `now` is past last_active_at + minutes, then "expired" (the boundary second still runs)."""
    expiry = record.get("expires_after") or {}
    minutes = int(expiry.get("minutes") or DEFAULT_EXPIRY_MINUTES)
    return "expired" if now > int(record["last_active_at"]) + minutes * 60 else "running"


def container_path(name: str) -> str:
    """Where a file of (already sanitized) base name `name` lives in the container."""
    return f"{MOUNT}/{name}"


def container_file_object(file_id: str, *, container_id: str, name: str, size: int, source: str,
                          created_at: int) -> dict[str, Any]:
    return ContainerFileObject.model_validate({
        "id": file_id, "created_at": created_at, "bytes": size, "container_id": container_id,
        "path": container_path(name), "source": source}).model_dump(mode="json")
