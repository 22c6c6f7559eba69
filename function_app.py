"""The function app: one DFApp, every blueprint registered, nothing else."""

import azure.durable_functions as df
import azure.functions as func

from activities import ingestion as ingestion_activities
from activities import runs as run_activities
from activities import tool_calls as tool_call_activities
from api import BLUEPRINTS
from orchestrators import ingestion as ingestion_orchestrator
from orchestrators import runs as run_orchestrator
from timers import run_sweeper

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
for blueprint in (*BLUEPRINTS, run_orchestrator.bp, run_activities.bp, tool_call_activities.bp,
                  ingestion_orchestrator.bp, ingestion_activities.bp, run_sweeper.bp):
    app.register_functions(blueprint)
