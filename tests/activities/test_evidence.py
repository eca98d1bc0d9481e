"""The evidence activity over the fake platform: the call, its key, and refusals stopping."""

from __future__ import annotations

import pydantic
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.evidence import EvidenceActivities
from domain.evidence_files import MAX_IMAGE_BYTES, Evidence, EvidenceKind
from tests.fakes import FakePlatform

LABEL = Evidence(
    kind=EvidenceKind.SHIPPING_LABEL, filename="label.png", content_type="image/png", data=b"png"
)


async def test_an_upload_reaches_the_platform_with_its_key_and_returns_the_evidence_id() -> None:
    platform = FakePlatform()
    activities = EvidenceActivities(platform)
    evidence_id = await ActivityEnvironment().run(
        activities.upload, "9001", LABEL, "wf-1001:evidence-label"
    )
    assert evidence_id == "fake-evidence:9001:wf-1001:evidence-label"
    assert platform.keys("upload_evidence") == ["wf-1001:evidence-label"]
    assert platform.calls[0].args == ("9001", LABEL)


async def test_a_refused_upload_becomes_a_non_retryable_application_error() -> None:
    platform = FakePlatform(refuse={"upload_evidence": ("ISSUE_STATUS_INVALID", "closed")})
    activities = EvidenceActivities(platform)
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(activities.upload, "9001", LABEL, "wf:evidence")
    assert caught.value.type == "PlatformRefused"
    assert caught.value.non_retryable


@pytest.mark.parametrize(
    ("filename", "content_type", "data", "problem"),
    [
        ("label.png", "image/png", b"", "empty"),
        ("../label.png", "image/png", b"x", "path separator"),
        ("dir\\label.png", "image/png", b"x", "path separator"),
        ("  ", "image/png", b"x", "empty"),
        ("label.png", "png", b"x", "media type"),
        ("label.png", "image/png", b"x" * (MAX_IMAGE_BYTES + 1), "at most"),
    ],
)
def test_evidence_that_no_platform_could_take_is_refused_when_built(
    filename: str, content_type: str, data: bytes, problem: str
) -> None:
    with pytest.raises(pydantic.ValidationError, match=problem):
        Evidence(kind=EvidenceKind.OTHER, filename=filename, content_type=content_type, data=data)


def test_only_images_are_capped_at_five_megabytes() -> None:
    video = Evidence(
        kind=EvidenceKind.PACKING_VIDEO,
        filename="packing.mp4",
        content_type="video/mp4",
        data=b"x" * (MAX_IMAGE_BYTES + 1),
    )
    assert not video.is_image
    assert (video.extension, LABEL.extension) == ("mp4", "png")


def test_binary_evidence_survives_the_json_round_trip_of_a_temporal_payload() -> None:
    image = LABEL.model_copy(update={"data": b"\x89PNG\r\n\x1a\n\xff\x00"})
    assert Evidence.model_validate_json(image.model_dump_json()) == image
