"""HTTP triggers, one module per resource. BLUEPRINTS is what function_app registers."""

BLUEPRINTS: list = []
