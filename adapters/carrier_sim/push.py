"""The simulator's push mode: signed 17TRACK webhooks for events that became visible."""

from __future__ import annotations

import httpx

from adapters.carrier_sim.protocol import due_pushes
from adapters.carrier_sim.state import SimState
from adapters.seventeentrack.units import SIGN_HEADER
from adapters.seventeentrack.webhook import sign


async def push_due(state: SimState, http: httpx.AsyncClient | None = None) -> dict[str, int]:
    """Post one signed push per number with new events to ``state.webhook_url``.

    A number counts as pushed only when the receiver answers 2xx, so a failed push is sent
    again on the next flush, as 17TRACK retries.
    """
    if not state.webhook_url:
        return {"pushed": 0, "failed": 0}
    pushed = failed = 0
    client = http or httpx.AsyncClient(timeout=httpx.Timeout(10.0))
    try:
        for number, seen, body in due_pushes(state):
            headers = {SIGN_HEADER: sign(body, state.token), "Content-Type": "application/json"}
            try:
                response = await client.post(state.webhook_url, content=body, headers=headers)
            except httpx.TransportError:
                failed += 1
                continue
            if response.is_success:
                with state.lock:
                    state.pushed[number] = seen
                pushed += 1
            else:
                failed += 1
    finally:
        if http is None:
            await client.aclose()
    return {"pushed": pushed, "failed": failed}
