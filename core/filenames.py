"""Making a caller-supplied file name safe to show, store and later place in a sandbox.

The name is only ever metadata (blob names come from file ids), but tools such
as code interpreter put files at `/mnt/data/<filename>`, so it must be a plain
base name: no directories, no control or bidi-override characters, bounded length.
"""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 255
_MAX_EXTENSION = 16


def sanitize(name: str) -> str | None:
    """A safe base name for `name`, or None when nothing usable is left."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = name.strip()
    if not name.strip("."):
        return None
    if len(name) > MAX_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= _MAX_EXTENSION:
            name = stem[: MAX_LENGTH - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:MAX_LENGTH]
    return name
