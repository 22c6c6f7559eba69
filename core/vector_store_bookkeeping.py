"""What the service keeps of a vector store and of a store file beside their public records, never inside.

As with a run's bookkeeping (core.run_bookkeeping), each is stored as its own
property of the record's table row, so it changes atomically with the record and is
never sent to a client; core.repositories.vector_stores is the one place that
writes it there and splits it off again. Records stored before it kept these fields
inside the record (`_helper`, `_filename`, `_batch_id`, `_segment`, a batch's
`cancelled`): each kind names them in INSIDE, and that one place still reads them.
"""


from typing import Any, ClassVar, Self

from core.run_bookkeeping import Record


class Bookkeeping(Record):
    # The keys inside a record stored before its bookkeeping was kept beside it: each is a field (the key
    # without its leading `_`), none is public.
    INSIDE: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_inside(cls, record: dict[str, Any]) -> Self:
        return cls.model_validate({key.removeprefix("_"): record[key] for key in cls.INSIDE if key in record})


class StoreBookkeeping(Bookkeeping):
    INSIDE = ("_helper",)
    # Made by the thread/assistant helpers (an inline `vector_stores` of tool_resources, a thread's store for
    # its attachments): a run's search waits for such a store's ingestion (tools/plugins/file_search.py).
    helper: bool = False


class StoreFileBookkeeping(Bookkeeping):
    INSIDE = ("_filename", "_batch_id", "_segment")
    # The file's name when it was attached: what its format is parsed by, and what search results show.
    filename: str = ""
    # The file batch that attached it (also the row's `batch_id` column, which a batch's counts read).
    batch_id: str | None = None
    # The version of its ingested chunks (core.file_search.segments), once ingestion completed.
    segment: str | None = None


class BatchBookkeeping(Bookkeeping):
    INSIDE = ("cancelled",)
    # Cancelled by the client: the batch reports `cancelled` whatever its files' statuses.
    cancelled: bool = False
