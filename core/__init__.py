"""Domain core: settings, ids, wire schemas, storage repositories, model client."""
