"""17TRACK tracking API v2.2: pure builders and parsers, a thin httpx client, push webhooks."""

from adapters.seventeentrack.client import SeventeenTrackClient

__all__ = ["SeventeenTrackClient"]
