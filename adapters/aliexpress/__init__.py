"""The AliExpress Open Platform adapter: signing, pure builders and parsers, and the client."""

from adapters.aliexpress.client import AliExpressClient
from adapters.aliexpress.responses import refusal_reason

__all__ = ["AliExpressClient", "refusal_reason"]
