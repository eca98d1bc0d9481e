"""The worker's claims port from the environment: EasyPost when configured, else an operator."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from workers.config import ClaimsSettings
from workers.worker import build_claims_from_env

CONFIGURED = {
    "PARCELFLOW_EASYPOST_API_KEY": "EZAK-test",
    "PARCELFLOW_CLAIM_CARRIERS": "Yanwen Express, 4PX",
    "PARCELFLOW_EASYPOST_CONTACT_EMAIL": "claims@seller.example",
}


def test_without_a_key_no_claim_goes_by_api() -> None:
    assert build_claims_from_env({}) is None


async def test_a_configured_key_claims_the_named_carriers_through_easypost() -> None:
    claims = build_claims_from_env(CONFIGURED)

    assert claims is not None
    async with claims:
        assert claims.base_url == "https://api.easypost.com"
        assert [c for c in ("yanwen", "4px", "cainiao") if claims.supports_api(c)] == [
            "yanwen",
            "4px",
        ]


def test_the_api_key_never_shows_in_the_settings() -> None:
    settings = ClaimsSettings.from_env(CONFIGURED)

    assert "EZAK-test" not in repr(settings)
    assert settings.carriers == ("yanwen", "4px")


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PARCELFLOW_CLAIM_CARRIERS": "yanwen"}, "PARCELFLOW_EASYPOST_API_KEY"),
        ({**CONFIGURED, "PARCELFLOW_CLAIM_CARRIERS": ""}, "PARCELFLOW_CLAIM_CARRIERS"),
        ({**CONFIGURED, "PARCELFLOW_CLAIM_CARRIERS": "yanwen, ups"}, "PARCELFLOW_CLAIM_CARRIERS"),
        (
            {**CONFIGURED, "PARCELFLOW_EASYPOST_CONTACT_EMAIL": ""},
            "PARCELFLOW_EASYPOST_CONTACT_EMAIL",
        ),
    ],
)
def test_a_half_configuration_names_the_variable_to_fix(env: dict[str, str], variable: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        build_claims_from_env(env)
    assert refused.value.field == variable
