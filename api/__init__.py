"""HTTP triggers, one module per resource. BLUEPRINTS is what function_app registers."""

from api import assistants, files, messages, openapi, playground, runs, threads

BLUEPRINTS: list = [assistants.bp, threads.bp, messages.bp, files.bp, runs.bp, openapi.bp, playground.bp]
