"""The capacity rules: (total - reserved) * ratio, and min_unit / max_unit / step_size."""

from __future__ import annotations

from onestack.placement.manager import Stock
from onestack.placement.manager.capacity import capacity, fits, free_share, unit_problem


def test_capacity_applies_reserved_then_the_ratio() -> None:
    assert capacity(Stock(total=4, reserved=0, allocation_ratio=16.0)) == 64
    assert capacity(Stock(total=2048, reserved=512, allocation_ratio=1.5)) == 2304


def test_capacity_rounds_down() -> None:
    assert capacity(Stock(total=3, allocation_ratio=0.5)) == 1


def test_an_amount_that_fills_capacity_exactly_fits() -> None:
    stock = Stock(total=10, reserved=2)

    assert fits(stock, used=5, amount=3)
    assert not fits(stock, used=5, amount=4)


def test_unit_rules() -> None:
    stock = Stock(total=100, min_unit=2, max_unit=8, step_size=2)

    assert unit_problem(stock, 4) is None
    assert "min_unit" in (unit_problem(stock, 1) or "")
    assert "max_unit" in (unit_problem(stock, 10) or "")
    assert "step_size" in (unit_problem(stock, 5) or "")
    assert not fits(stock, used=0, amount=10)


def test_free_share_ranks_the_emptier_provider_higher() -> None:
    stock = Stock(total=10)

    assert free_share(stock, 2) > free_share(stock, 8)
    assert free_share(Stock(total=1, reserved=1), 0) == 0.0
