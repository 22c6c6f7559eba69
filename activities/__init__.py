"""Activities: every piece of I/O an orchestration does (model turns, tool calls, state writes)."""
