"""Who mail and calendar tools may address: the operator's allowlist, checked before sending.

TOOL_EMAIL_ALLOWED_RECIPIENTS holds addresses (ana@contoso.com) and domains (contoso.com or
@contoso.com; subdomains are not implied), comma-separated; '*' allows anyone. Unset allows
nobody: a model (or a prompt injected into what it read) cannot mail strangers from the
operator's mailbox unless the operator said so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import getaddresses
from typing import Any

from tools.registry import ToolError, parse_names

SETTING = "TOOL_EMAIL_ALLOWED_RECIPIENTS"
_ADDRESS = re.compile(r"[^@\s\"<>()\[\],;:\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


@dataclass(frozen=True)
class Allowlist:
    anyone: bool
    addresses: frozenset[str]
    domains: frozenset[str]

    def allows(self, address: str) -> bool:
        address = address.lower()
        return self.anyone or address in self.addresses or address.rsplit("@", 1)[1] in self.domains


def parse_allowlist(text: str | None) -> Allowlist:
    entries = {entry.lower() for entry in parse_names(text)}
    return Allowlist(anyone="*" in entries,
                     addresses=frozenset(e for e in entries if "@" in e.lstrip("@")),
                     domains=frozenset(e.lstrip("@") for e in entries if e != "*" and "@" not in e.lstrip("@")))


def addresses_in(value: Any, field: str) -> list[str]:
    """Plain addresses from 'a@x.com; Ana <b@y.com>' or a list of such strings."""
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in items):
        raise ToolError(f"{field} must be e-mail addresses as text")
    found = []
    for item in items:
        pairs = getaddresses([item.replace(";", ",")])
        for _, address in pairs:
            if not _ADDRESS.fullmatch(address):
                raise ToolError(f"{field} holds something that is not an e-mail address: {item[:100]!r}")
            found.append(address)
        if item.strip() and not pairs:
            raise ToolError(f"{field} holds something that is not an e-mail address: {item[:100]!r}")
    return list(dict.fromkeys(found))


def check_allowed(addresses: list[str], allowlist_text: str | None) -> None:
    """Raise a tool error naming the refused recipients; nothing may be sent then."""
    allowlist = parse_allowlist(allowlist_text)
    if not (allowlist.anyone or allowlist.addresses or allowlist.domains):
        raise ToolError(f"this deployment allows no recipients yet ({SETTING} is unset); nothing was sent")
    refused = [address for address in addresses if not allowlist.allows(address)]
    if refused:
        raise ToolError(f"not an allowed recipient on this deployment: {', '.join(refused)}; nothing was sent")
