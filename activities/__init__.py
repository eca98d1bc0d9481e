"""Thin Temporal activities, one module per port."""
