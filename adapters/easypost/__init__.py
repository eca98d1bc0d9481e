"""EasyPost's Claims API (R17): pure builders and parsers, a thin httpx client, a simulator."""

from adapters.easypost.client import EasyPostClaims

__all__ = ["EasyPostClaims"]
