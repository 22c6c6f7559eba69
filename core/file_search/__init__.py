"""file_search: vector stores' ingestion (parse → chunk → embed → segment) and hybrid retrieval.

Searching the stores a caller owns is core.vector_store_search (a use case over these and the repositories).
"""
