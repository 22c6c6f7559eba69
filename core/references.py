"""Ids a request names that must be the caller's: files and vector stores (a 400 naming where otherwise).

In core, not in usecases, because the tool plug-ins check what a response's tools name with them too.
"""

from __future__ import annotations

from core.errors import InvalidRequest, NotFound
from core.repositories.shared import files, vector_stores


def require_files(principal: str, references: list[tuple[str, str]]) -> None:
    """Every referenced file id (with the param naming it) must name a file the caller owns."""
    for file_id, param in references:
        try:
            files().load(principal, file_id)
        except NotFound:
            raise InvalidRequest(f"No file found with id '{file_id}'.", param=param, code="invalid_value") from None


def require_vector_stores(principal: str, store_ids: list[str], param: str) -> None:
    """Every vector store named is the caller's (the error names `param[index]`)."""
    for index, store_id in enumerate(store_ids):
        try:
            vector_stores().load_store(principal, store_id)
        except NotFound:
            raise InvalidRequest(f"No vector store found with id '{store_id}'.", code="invalid_value",
                                 param=f"{param}[{index}]") from None
