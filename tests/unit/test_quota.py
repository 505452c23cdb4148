"""The quota enforcer over a LimitSource: project limit or default, unlimited, overages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pytest

from onestack.common.errors import OneStackError
from onestack.common.quota import OverQuota, Quotas


class FixedLimits:
    """A LimitSource with fixed limits per (project, service), and a record of its calls."""

    def __init__(self, limits: Mapping[tuple[str, str], Mapping[str, int]]) -> None:
        self.limits = limits
        self.regions: list[str | None] = []

    def effective_limits(
        self, project_id: str, service: str, region_id: str | None, resource_names: Iterable[str]
    ) -> dict[str, int]:
        self.regions.append(region_id)
        known = self.limits.get((project_id, service), {})
        return {name: known[name] for name in resource_names if name in known}


class Usage:
    """Usage counts per resource, remembering which resources it was asked about."""

    def __init__(self, **counts: int) -> None:
        self.counts = counts
        self.asked: list[list[str]] = []

    def __call__(self, project_id: str, names: list[str]) -> dict[str, int]:
        self.asked.append(names)
        return {name: self.counts[name] for name in names if name in self.counts}


LIMITS = FixedLimits({("p1", "image"): {"images": 3, "bytes": 100, "free": -1}})


def test_a_claim_within_the_limit_passes() -> None:
    Quotas(LIMITS).enforce("p1", "image", {"images": 1}, Usage(images=2))


def test_a_claim_past_the_limit_names_resource_limit_usage_and_request() -> None:
    with pytest.raises(OverQuota) as caught:
        Quotas(LIMITS).enforce("p1", "image", {"images": 2}, Usage(images=2))
    error = caught.value
    assert (error.resource, error.limit, error.usage, error.requested) == ("images", 3, 2, 2)
    assert isinstance(error, OneStackError) and error.status == 413
    assert "images" in error.message and "p1" in error.message


def test_every_exceeded_resource_is_reported() -> None:
    with pytest.raises(OverQuota) as caught:
        Quotas(LIMITS).enforce("p1", "image", {"images": 5, "bytes": 101}, Usage())
    assert {o.resource for o in caught.value.overages} == {"images", "bytes"}


def test_unlimited_and_unregistered_resources_are_never_counted() -> None:
    usage = Usage(free=10**9, other=10**9)
    Quotas(LIMITS).enforce("p1", "image", {"free": 10**6, "other": 10**6}, usage)
    assert usage.asked == []


def test_only_limited_resources_are_counted() -> None:
    usage = Usage(images=0, free=5)
    Quotas(LIMITS).enforce("p1", "image", {"images": 1, "free": 1}, usage)
    assert usage.asked == [["images"]]


def test_a_project_without_limits_is_unlimited() -> None:
    Quotas(LIMITS).enforce("other-project", "image", {"images": 10**6}, Usage())


def test_a_release_never_fails_even_over_the_limit() -> None:
    Quotas(LIMITS).enforce("p1", "image", {"images": -1}, Usage(images=10))


def test_the_limit_itself_is_reachable() -> None:
    Quotas(LIMITS).enforce("p1", "image", {"images": 3}, Usage(images=0))


def test_a_zero_limit_refuses_any_claim() -> None:
    limits = FixedLimits({("p1", "compute"): {"cores": 0}})
    with pytest.raises(OverQuota):
        Quotas(limits).enforce("p1", "compute", {"cores": 1}, Usage())


def test_recheck_fails_when_usage_is_already_past_the_limit() -> None:
    quotas = Quotas(LIMITS)
    quotas.recheck("p1", "image", ["images"], Usage(images=3))
    with pytest.raises(OverQuota) as caught:
        quotas.recheck("p1", "image", ["images"], Usage(images=4))
    assert (caught.value.usage, caught.value.requested) == (4, 0)


def test_the_region_is_passed_to_the_limit_source() -> None:
    limits = FixedLimits({})
    Quotas(limits, region_id="RegionTwo").enforce("p1", "image", {"images": 1}, Usage())
    assert limits.regions == ["RegionTwo"]
