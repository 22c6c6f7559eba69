"""HTTP triggers, one module per resource. BLUEPRINTS is what function_app registers."""

from api import assistants, fallback, files, messages, model_passthrough, openapi, runs, threads

BLUEPRINTS: list = [assistants.bp, threads.bp, messages.bp, files.bp, runs.bp, model_passthrough.bp, openapi.bp,
                    fallback.bp]
