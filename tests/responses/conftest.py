"""The runs' fixtures (a devhost per module, a client with its own key) serve the Responses tests too."""

from tests.runs.conftest import fresh  # noqa: F401 - a fixture, found by name
