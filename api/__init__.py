"""HTTP triggers, one module per resource. BLUEPRINTS is what function_app registers."""

from api import (
                 assistants,
                 containers,
                 conversations,
                 fallback,
                 files,
                 messages,
                 model_passthrough,
                 openapi,
                 playground,
                 responses,
                 run_events,
                 run_steps,
                 runs,
                 threads,
                 vector_store_files,
                 vector_stores,
)

BLUEPRINTS: list = [assistants.bp, threads.bp, messages.bp, files.bp, runs.bp, run_steps.bp, run_events.bp, vector_stores.bp,
                    vector_store_files.bp, containers.bp, responses.bp, conversations.bp, model_passthrough.bp, openapi.bp, playground.bp, fallback.bp]
