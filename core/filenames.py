"""The project's one rule for caller- or code-supplied file names.

A name is only ever metadata (blob names come from file ids), but it is shown to users,
sent back in Content-Disposition, and code_interpreter places files at
`/mnt/data/<name>` on Linux and in Azure's sessions. So a name must be a plain base name
that is safe on every file system a user may save it to:

- only the last path component survives ("../../etc/passwd" → "passwd", "C:\\a\\b.csv" →
  "b.csv"); "", ".", ".." and names of dots only are refused;
- control, format (bidi overrides), surrogate, private-use and unassigned characters go;
  characters Windows forbids (`<>:"|?*`) become "_"; trailing dots and spaces go;
- Windows device names (CON, NUL, COM1, ... with or without an extension) get a "_" prefix;
- other non-ASCII text is kept readable (NFC), and the result fits in 255 UTF-8 bytes, the
  limit of Linux file systems, keeping a short extension.
"""

from __future__ import annotations

import re
import unicodedata
from typing import overload

MAX_BYTES = 255
_MAX_EXTENSION_BYTES = 16
_DROPPED_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn")
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*]')
_WINDOWS_DEVICES = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\..*)?", re.IGNORECASE)


@overload
def sanitize(name: str, default: str) -> str: ...
@overload
def sanitize(name: str, default: None = None) -> str | None: ...
def sanitize(name: str, default: str | None = None) -> str | None:
    """A safe base name for `name`, or `default` when nothing usable is left of it."""
    name = unicodedata.normalize("NFC", str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    name = _WINDOWS_FORBIDDEN.sub("_", name).strip().rstrip(". ")
    if not name.strip("."):
        return default
    if _WINDOWS_DEVICES.fullmatch(name):
        name = "_" + name
    return _fit(name)


def _fit(name: str) -> str:
    """`name` cut to MAX_BYTES of UTF-8, whole characters only, keeping a short extension."""
    if len(name.encode("utf-8")) <= MAX_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not (dot and stem and len(extension.encode("utf-8")) <= _MAX_EXTENSION_BYTES):
        stem, extension = name, ""
    room = MAX_BYTES - (len(extension.encode("utf-8")) + 1 if extension else 0)
    stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(". ")
    return f"{stem}.{extension}" if extension else stem
