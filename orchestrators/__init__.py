"""Run orchestrator: the run lifecycle as a durable state machine (deterministic, no I/O)."""
