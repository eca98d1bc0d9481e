"""Processes: worker, hook/API server, CLI, dev launcher, configuration, logging."""
