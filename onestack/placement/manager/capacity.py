"""The capacity rules, pure: what an inventory can hold and whether an amount may be taken.

capacity = int((total - reserved) * allocation_ratio); an amount must lie within
[min_unit, max_unit] and be a multiple of step_size.
"""

from __future__ import annotations

from typing import Protocol


class Stock(Protocol):
    total: int
    reserved: int
    min_unit: int
    max_unit: int
    step_size: int
    allocation_ratio: float


def capacity(stock: Stock) -> int:
    """How much of the class can be allocated in all."""
    return int((stock.total - stock.reserved) * stock.allocation_ratio)


def unit_problem(stock: Stock, amount: int) -> str | None:
    """Why `amount` breaks the unit rules of `stock`, or None."""
    if amount < stock.min_unit:
        return f"the amount {amount} is below min_unit {stock.min_unit}"
    if amount > stock.max_unit:
        return f"the amount {amount} is above max_unit {stock.max_unit}"
    if amount % stock.step_size:
        return f"the amount {amount} is not a multiple of step_size {stock.step_size}"
    return None


def fits(stock: Stock, used: int, amount: int) -> bool:
    """True when `amount` more than `used` stays within capacity and the unit rules."""
    return unit_problem(stock, amount) is None and used + amount <= capacity(stock)


def free_share(stock: Stock, used: int) -> float:
    """The share of capacity still free (0..1; 0 for no capacity), to rank providers."""
    total = capacity(stock)
    return (total - used) / total if total > 0 else 0.0


def inventory_problem(stock: Stock) -> str | None:
    """Why an inventory record is not valid, or None."""
    if stock.reserved > stock.total and stock.total > 0:
        return "reserved is greater than total"
    if stock.min_unit > stock.max_unit:
        return "min_unit is greater than max_unit"
    if stock.allocation_ratio <= 0:
        return "allocation_ratio must be greater than 0"
    return None
