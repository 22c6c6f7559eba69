"""devhost: runs `function_app.app` locally the way `func start` would, without Core Tools.

It indexes the app as the Python worker does, serves its HTTP triggers, gives them
the Durable client binding, and executes orchestrations through the real
`azure.durable_functions` SDK with history persisted in Azure Storage (Azurite).
"""
