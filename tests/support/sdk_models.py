"""Checks on what the SDK's own types make of our objects."""

from __future__ import annotations

from openai._models import BaseModel as SdkModel


def assert_no_unknown_fields(model: object) -> None:
    """Every SDK model in `model` (nested ones and lists too) was given only fields the SDK declares."""
    if isinstance(model, SdkModel):
        assert not model.model_extra, f"{type(model).__name__} has unknown fields {model.model_extra}"
        for value in model.__dict__.values():
            assert_no_unknown_fields(value)
    elif isinstance(model, list):
        for item in model:
            assert_no_unknown_fields(item)
