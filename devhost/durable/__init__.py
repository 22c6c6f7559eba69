"""A local Durable Functions backend: the part of the host that runs orchestrations."""
