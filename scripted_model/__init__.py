"""An OpenAI-compatible Chat Completions server that stands in for the model offline.

It cannot reason: it answers with replies a test scripted, or echoes the input.
"""

from .client import ScriptedModelClient
from .script import Script, reply_error, reply_text, reply_tool_calls
from .server import ScriptedModelHandle, create_app, start_in_thread

__all__ = ["Script", "ScriptedModelClient", "ScriptedModelHandle", "create_app", "reply_error",
           "reply_text", "reply_tool_calls", "start_in_thread"]
