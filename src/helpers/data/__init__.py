"""Data layer: the canonical tables — schema, loading and validation, source mappings, the demo generator."""
