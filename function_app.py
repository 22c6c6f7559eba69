"""The function app: one DFApp, every blueprint registered, nothing else."""

import azure.durable_functions as df
import azure.functions as func

from api import BLUEPRINTS

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
for blueprint in BLUEPRINTS:
    app.register_functions(blueprint)
