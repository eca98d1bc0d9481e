"""Real implementations of the ports (HTTP clients) and the local simulators."""
