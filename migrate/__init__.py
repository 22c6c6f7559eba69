"""Move Assistants API data into this service: copy, export, import, verify (see migrate/README.md).

A client-side tool: it talks to both ends through the official `openai` SDK, as
any user's code would, and uses nothing from the server's internals.
"""
