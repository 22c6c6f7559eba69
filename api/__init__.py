"""HTTP triggers, one module per resource. BLUEPRINTS is what function_app registers."""

from api import assistants, files, messages, openapi, runs, threads, vector_store_files, vector_stores

BLUEPRINTS: list = [assistants.bp, threads.bp, messages.bp, files.bp, runs.bp, vector_stores.bp,
                    vector_store_files.bp, openapi.bp]
