"""The ingestion orchestrator: a vector store's new files, ingested a few at a time, durably.

Input: an IngestionJob (core/ingestion_protocol.py). Each file is one activity
(activities/ingestion.py), retried on faults; files whose activity still fails
end `failed` with server_error. A crash resumes the orchestration from its
history: finished files are not ingested again, and the one that was under way
is re-run, which its activity makes harmless.
"""

from __future__ import annotations

import azure.durable_functions as df

from core.ingestion_protocol import FAIL_FILES, INGEST_FILE, IngestionJob

bp = df.Blueprint()
PARALLEL_FILES = 4
RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=2000, max_number_of_attempts=3)


def groups(file_ids: list[str], size: int = PARALLEL_FILES) -> list[list[str]]:
    return [file_ids[start:start + size] for start in range(0, len(file_ids), size)]


@bp.orchestration_trigger(context_name="context")
def ingestion_orchestrator(context: df.DurableOrchestrationContext):
    job = IngestionJob.of(context.get_input())
    done = 0
    for group in groups(job.file_ids):
        tasks = [context.call_activity_with_retry(INGEST_FILE, RETRY, job.file(file_id).wire()) for file_id in group]
        try:
            yield context.task_all(tasks)
        except Exception:  # only files still in progress are marked: the others finished
            yield context.call_activity(FAIL_FILES, job.files(group).wire())
        done += len(group)
        context.set_custom_status({"files_done": done})
    return {"files": done}
