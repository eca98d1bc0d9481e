"""A local ASGI server in a background thread: how simulators and the hook server run in-process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve_in_thread(
    app: Any, *, host: str = "127.0.0.1", port: int | None = None, startup_timeout: float = 10.0
) -> Iterator[str]:
    """Serve ``app`` on ``host:port`` (a free port by default) and yield its base URL.

    The server stops when the block ends. Used by tests (clients against simulators over
    real HTTP) and by the dev launcher.
    """
    chosen = port or free_port(host)
    config = uvicorn.Config(app, host=host, port=chosen, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"asgi:{chosen}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            msg = f"ASGI server on {host}:{chosen} did not start"
            raise RuntimeError(msg)
        time.sleep(0.01)
    try:
        yield f"http://{host}:{chosen}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
