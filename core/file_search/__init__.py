"""file_search: vector stores' ingestion (parse → chunk → embed → segment) and hybrid retrieval.

The one entry point other parts call is `core.file_search.search.search` (see there).
"""
