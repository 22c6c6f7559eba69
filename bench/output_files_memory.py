"""Memory of returning large files from code_interpreter: devhost's resident set while one call
writes two 384 MB files to /mnt/data and they are stored as file objects (streamed to Blob storage).
Reported as growth in MB and as a fraction of the bytes returned. Target: growth under 100 MB."""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path

import openai

from bench.ingestion_memory import PeakRss
from scripted_model import reply_text, reply_tool_calls, start_in_thread
from tests.support import keys
from tests.support.azurite import start_azurite
from tests.support.devhost_proc import ROOT, DevhostProcess

FILE_MB = 384
CODE = (f"chunk = b'x' * (1024 * 1024)\n"
        f"for name in ('a.bin', 'b.bin'):\n"
        f"    with open('/mnt/data/' + name, 'wb') as out:\n"
        f"        for _ in range({FILE_MB}):\n"
        f"            out.write(chunk)\n")


def main() -> None:
    azurite, model = start_azurite(), start_in_thread()
    keys.bind(azurite.connection_string)
    env = {"AzureWebJobsStorage": azurite.connection_string, "DURABLE_TASK_HUB": f"bo{uuid.uuid4().hex[:8]}",
           "AZURE_OPENAI_ENDPOINT": "", "OPENAI_BASE_URL": model.base_url, "OPENAI_API_KEY": "x",
           "MAX_UPLOAD_BYTES": str(512 * 2**20), "CODE_INTERPRETER_DISK_MB": "2048",
           "CODE_INTERPRETER_TIMEOUT_SECONDS": "300"}
    host = DevhostProcess(ROOT, env, Path(tempfile.mkdtemp()) / "devhost.log").start()
    try:
        client = openai.OpenAI(base_url=host.base_url, api_key=keys.key_for(f"bench-{uuid.uuid4().hex}"),
                               max_retries=0, timeout=900)
        assistant = client.beta.assistants.create(model="gpt-scripted", tools=[{"type": "code_interpreter"}])
        warm = uuid.uuid4().hex
        model.client.enqueue(reply_tool_calls([{"name": "code_interpreter", "arguments": {"code": "1"}}], match=warm),
                             reply_text("warm", match=warm))
        client.beta.threads.create_and_run_poll(assistant_id=assistant.id, thread={
            "messages": [{"role": "user", "content": warm}]})
        mark = uuid.uuid4().hex
        model.client.enqueue(reply_tool_calls([{"name": "code_interpreter", "arguments": {"code": CODE}}], match=mark),
                             reply_text("done", match=mark))
        sampler = PeakRss(host.process.pid)
        run = client.beta.threads.create_and_run_poll(assistant_id=assistant.id, thread={
            "messages": [{"role": "user", "content": mark}]}, poll_interval_ms=200)
        growth = sampler.stop()
        stored = [f for f in client.files.list(purpose="assistants_output").data if f.filename.endswith(".bin")]
        returned_mb = sum(f.bytes for f in stored) / 2**20
        print(json.dumps({"status": run.status, "files": len(stored), "returned_mb": round(returned_mb),
                          "rss_growth_mb": round(growth, 1),
                          "growth_per_returned_byte": round(growth / max(returned_mb, 1), 4)}, indent=2))
    finally:
        host.stop()
        model.stop()
        azurite.stop()


if __name__ == "__main__":
    main()
