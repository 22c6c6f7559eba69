"""The storage partition that holds what a principal owns.

Principals (who is calling: core.identity) are hashed into partition keys,
because a principal may contain characters Table storage forbids in keys
(`/ \\ # ?`) and should not be trusted to shape a key.
"""

from __future__ import annotations

import hashlib


def owner_partition(principal: str) -> str:
    return "o" + hashlib.sha256(principal.encode("utf-8")).hexdigest()[:40]
