"""Server-side tools: registry, built-ins and business tools."""
