"""How parcelflow's processes end: the exit codes every entry point shares, and ``exit_process``.

0  ok
1  refused by a rule (the reason is printed)
2  bad usage (typer's own usage errors; ``tracking check`` with an unknown carrier) or bad
   configuration (a worker, hook or codec server started without what it needs)
3  not found (an order, a claim, a store)
4  Temporal unreachable
"""

from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_CONFIG = 2
EXIT_NOT_FOUND = 3
EXIT_UNREACHABLE = 4


def exit_process(code: int) -> NoReturn:
    """Flush output and end the process without interpreter teardown.

    The Temporal client's Rust threads can outlive the event loop and abort a finalizing
    interpreter ("PyGILState_Release ... finalizing", temporalio/sdk-python#300), which would turn
    a clean exit code into 134. Everything that needs stopping has stopped when this is called.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
