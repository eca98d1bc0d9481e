"""Temporal workflows: thin deterministic drivers of the domain."""
