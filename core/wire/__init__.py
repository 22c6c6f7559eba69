"""Wire schemas: OpenAI Assistants v2 request bodies (strict) and response objects."""
