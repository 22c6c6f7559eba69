"""A session's /mnt/data between calls: which inputs it lacks, which files a call created or changed.

Pure bookkeeping shared by both sandboxes. Each lists /mnt/data its own way — the local one
with `os.scandir`, ACA with its files API — as a listing of name → signature, a value that
changes whenever the file does (local: size, mtime, inode; ACA: size, lastModifiedTime).
From two listings this module decides what to upload and what to hand back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable, Iterable, Mapping

from core import filenames
from tools.code_interpreter.sandbox import DATA_DIR, InputFile

Listing = Mapping[str, Hashable]
SCRATCH_PREFIX = ".upload-"  # an input being written; never an output


def input_name(name: str) -> str:
    """Where an input goes under /mnt/data: the project's one file name rule, never empty."""
    return filenames.sanitize(name, default="file")


@dataclass
class Workspace:
    """What one session holds as we wrote it: name → (input key, signature right after writing).

    An input is current while the file under its name still has the signature it had when we
    wrote it: code that changed or replaced the file makes the next call write it again.
    """

    held: dict[str, tuple[str, Hashable]] = field(default_factory=dict)

    def missing(self, inputs: Iterable[InputFile], listing: Listing) -> list[tuple[str, InputFile]]:
        """The inputs to write, as (name in /mnt/data, input); the last of one name wins."""
        wanted = {input_name(item.name): item for item in inputs}
        return [(name, item) for name, item in wanted.items()
                if name not in listing or self.held.get(name) != (item.key, listing[name])]

    def wrote(self, name: str, key: str, signature: Hashable) -> None:
        self.held[name] = (key, signature)

    def forget(self, name: str) -> None:
        self.held.pop(name, None)


def changed(before: Listing, after: Listing) -> list[str]:
    """Names created or changed between the two listings, sorted; scratch files excluded."""
    return sorted(name for name, signature in after.items()
                  if before.get(name) != signature and not name.startswith(SCRATCH_PREFIX))


def too_large(name: str, max_bytes: int) -> str:
    return f"[{DATA_DIR}/{name} not returned: larger than {max_bytes:,} bytes]"


def with_notes(logs: str, notes: list[str]) -> str:
    """The call's logs followed by our notes on it, one a line."""
    if not notes:
        return logs
    separator = "\n" if logs and not logs.endswith("\n") else ""
    return logs + separator + "\n".join(notes)
