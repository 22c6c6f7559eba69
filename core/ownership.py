"""Who is calling, and the storage partition that holds what they own.

App Service Authentication puts the caller's object id in
`X-MS-CLIENT-PRINCIPAL-ID`; without it (local runs) everything belongs to one
local principal. Principals are hashed into partition keys, because a raw
header value may contain characters Table storage forbids in keys (`/ \\ # ?`)
and should not be trusted to shape a key.
"""

from __future__ import annotations

import hashlib

PRINCIPAL_HEADER = "X-MS-CLIENT-PRINCIPAL-ID"
LOCAL_PRINCIPAL = "local"


def principal_from(headers) -> str:
    value = (headers.get(PRINCIPAL_HEADER) or "").strip()
    return value or LOCAL_PRINCIPAL


def owner_partition(principal: str) -> str:
    return "o" + hashlib.sha256(principal.encode("utf-8")).hexdigest()[:40]
