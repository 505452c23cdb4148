"""Placement (at /placement): resource providers, their inventories, consumers' allocations and
usages, the ledger compute's scheduler claims capacity in."""
