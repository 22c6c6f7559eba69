"""The seed's sample assistants, runnable against this service: `python -m samples <name>`.

Each sample is a package holding its definition (instructions, tools), its own data and
`run(session)`, the client a user would write with the official `openai` SDK: it creates
the assistant, uploads its data, runs the seed's prompts, prints the answers, saves
images and created files, and deletes what it created.
"""

from __future__ import annotations

import importlib
from types import ModuleType

SAMPLES = {
    "math_tutor": "code_interpreter solves an equation",
    "personal_finance": "portfolio CSV, stock prices and an e-mail answered by the client (function calling)",
    "failed_banks": "code_interpreter on a CSV: the state with most failures, a chart, a CSV to download",
    "wind_farm": "turbine readings, maintenance, and an e-mail through the server-side send_email tool",
    "sales_assistant": "four related CSVs; several users at once, one thread each",
    "file_search": "a benefits PDF in a vector store, answers with citations",
    "law_firm": "file_search over case files, the answer streamed as it is written",
    "finance_responses": "a thread begun with the Assistants API, continued with the Responses API (functions)",
}


def load(name: str) -> ModuleType:
    """The sample's module (a package of samples/); KeyError for a name not in SAMPLES."""
    if name not in SAMPLES:
        raise KeyError(name)
    return importlib.import_module(f"samples.{name}")
