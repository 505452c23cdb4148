"""Traits: the standard ones (in code, a subset of os-traits) and CUSTOM_* ones (rows), and
the set each provider has; setting a provider's traits compares and sets its generation."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.placement import errors
from onestack.placement.manager.base import GenerationRace, PlacementBase, bump, get_provider
from onestack.placement.models import CustomTrait, ProviderTrait

STANDARD = (
    "COMPUTE_ACCELERATORS",
    "COMPUTE_DEVICE_TAGGING",
    "COMPUTE_IMAGE_TYPE_QCOW2",
    "COMPUTE_IMAGE_TYPE_RAW",
    "COMPUTE_NET_ATTACH_INTERFACE",
    "COMPUTE_NODE",
    "COMPUTE_STATUS_DISABLED",
    "COMPUTE_TRUSTED_CERTS",
    "COMPUTE_VOLUME_ATTACH_WITH_TAG",
    "HW_CPU_X86_AVX",
    "HW_CPU_X86_AVX2",
    "HW_CPU_X86_SSE42",
    "HW_CPU_X86_VMX",
    "MISC_SHARES_VIA_AGGREGATE",
    "STORAGE_DISK_HDD",
    "STORAGE_DISK_SSD",
)
CUSTOM_NAME = re.compile(r"^CUSTOM_[A-Z0-9_]+$")


class Traits(PlacementBase):
    def list(
        self,
        names: Iterable[str] | None = None,
        prefix: str | None = None,
        associated: bool | None = None,
    ) -> list[str]:
        """Every trait, or those in `names`, starting with `prefix`, (not) on a provider."""
        with self.db.reader() as session:
            found = [*STANDARD, *session.scalars(select(CustomTrait.name))]
            used = set(session.scalars(select(ProviderTrait.trait).distinct()))
        if names is not None:
            wanted = set(names)
            found = [t for t in found if t in wanted]
        if prefix is not None:
            found = [t for t in found if t.startswith(prefix)]
        if associated is not None:
            found = [t for t in found if (t in used) == associated]
        return sorted(found)

    def exists(self, name: str) -> bool:
        if name in STANDARD:
            return True
        with self.db.reader() as session:
            return session.get(CustomTrait, name) is not None

    def ensure(self, name: str) -> bool:
        """Create CUSTOM_* trait `name`; True when it is new."""
        if CUSTOM_NAME.match(name) is None or len(name) > 255:
            raise errors.InvalidRequest(
                "The trait is invalid. A valid trait must be no longer than 255 characters, "
                "start with the prefix 'CUSTOM_' and use following characters: 'A'-'Z', "
                f"'0'-'9' and '_': {name}"
            )
        if self.exists(name):
            return False
        try:
            with self.writing("exists") as session:
                session.add(CustomTrait(name=name))
        except errors.Conflict:
            return False  # created meanwhile
        return True

    def delete(self, name: str) -> None:
        if name in STANDARD:
            raise errors.InvalidRequest(f"Cannot delete standard trait {name}.")
        with self.writing() as session:
            row = session.get(CustomTrait, name)
            if row is None:
                raise errors.TraitNotFound(name)
            on = select(ProviderTrait.trait).where(ProviderTrait.trait == name).limit(1)
            if session.scalar(on) is not None:
                raise errors.TraitInUse(name)
            session.delete(row)

    def of_provider(self, uuid: str) -> tuple[int, list[str]]:
        with self.db.reader() as session:
            provider = get_provider(session, uuid)
            return provider.generation, _names(session, uuid)

    def set_on_provider(self, uuid: str, generation: int, names: list[str]) -> int:
        """Replace the provider's traits (all must exist: 400 otherwise); a stale
        `generation` is a 409."""
        unknown = sorted(n for n in set(names) if not self.exists(n))
        if unknown:
            raise errors.InvalidRequest(f"No such trait(s): {', '.join(unknown)}.")
        try:
            with self.writing() as session:
                provider = get_provider(session, uuid)
                if provider.generation != generation:
                    raise errors.ConcurrentUpdate()
                session.execute(delete(ProviderTrait).where(ProviderTrait.provider_uuid == uuid))
                session.add_all(ProviderTrait(provider_uuid=uuid, trait=n) for n in set(names))
                return bump(session, uuid, generation)
        except GenerationRace:
            raise errors.ConcurrentUpdate() from None


def _names(session: Session, uuid: str) -> list[str]:
    rows = select(ProviderTrait.trait).where(ProviderTrait.provider_uuid == uuid)
    return sorted(session.scalars(rows))
