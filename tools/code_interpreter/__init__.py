"""code_interpreter's sandbox: run the model's Python per thread, files at /mnt/data.

The run engine needs only what is re-exported here:

    sandbox = sandbox_from_settings()            # process-wide; "local" or "aca" by setting
    result = sandbox.execute(thread_id, code, [InputFile(name, file_id, open_stream)])
    result.logs, result.error, result.images, result.files

See `sandbox.py` for the exact contract.
"""

from tools.code_interpreter.configured import sandbox_from_settings
from tools.code_interpreter.sandbox import (
    DATA_DIR,
    Execution,
    InputFile,
    InputUnavailable,
    Sandbox,
    SandboxFile,
    SandboxUnavailable,
)

__all__ = ["DATA_DIR", "Execution", "InputFile", "InputUnavailable", "Sandbox", "SandboxFile",
           "SandboxUnavailable", "sandbox_from_settings"]
