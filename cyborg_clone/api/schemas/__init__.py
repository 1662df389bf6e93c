"""JSON schemas for free-form request bodies."""
