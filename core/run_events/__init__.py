"""Streaming runs: the durable event log (log.py), OpenAI's event payloads (payloads.py) and the
in-process wake-ups that let a reader in the writer's process skip its poll (wakeups.py)."""
