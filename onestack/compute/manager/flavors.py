"""Flavors: the sizes servers come in. Public flavors are everyone's; private ones are seen by
compute admins only (flavor access lists come later). DevStack's default set is `DEFAULTS`."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from onestack.compute import errors
from onestack.compute.manager.base import Caller, ComputeBase, now
from onestack.compute.models import Flavor, FlavorExtraSpec, FlavorProject


@dataclass(frozen=True)
class FlavorSpec:
    name: str
    memory_mb: int
    vcpus: int
    root_gb: int
    flavor_id: str | None = None
    ephemeral_gb: int = 0
    swap: int = 0
    rxtx_factor: float = 1.0
    is_public: bool = True
    description: str | None = None


# DevStack's flavors (m1.nano and m1.micro as its tempest setup makes them).
DEFAULTS = (
    FlavorSpec("m1.nano", 128, 1, 1, "42"),
    FlavorSpec("m1.micro", 192, 1, 1, "84"),
    FlavorSpec("m1.tiny", 512, 1, 1, "1"),
    FlavorSpec("m1.small", 2048, 1, 20, "2"),
    FlavorSpec("m1.medium", 4096, 2, 40, "3"),
    FlavorSpec("m1.large", 8192, 4, 80, "4"),
    FlavorSpec("m1.xlarge", 16384, 8, 160, "5"),
)


class FlavorManager(ComputeBase):
    def list(self, caller: Caller, is_public: bool | None = True) -> list[Flavor]:
        """Flavors by id order. Members see public flavors and private ones shared with their
        project (Nova's default listing); admins choose with `is_public` (None: all)."""
        query = select(Flavor)
        if caller.is_admin and is_public is not None:
            query = query.where(Flavor.is_public.is_(is_public))
        with self.db.reader() as session:
            rows = [row for row in session.scalars(query) if _visible(caller, row)]
        return sorted(rows, key=lambda f: (_numeric(f.flavor_id), f.flavor_id))

    def get(self, caller: Caller | None, flavor_id: str) -> Flavor:
        with self.db.reader() as session:
            flavor = session.get(Flavor, flavor_id)
        if flavor is None or (caller is not None and not _visible(caller, flavor)):
            raise errors.FlavorNotFound(flavor_id)
        return flavor

    def access(self, flavor_id: str) -> list[str]:
        """The projects a private flavor is shared with; 404 for a public one (Nova's)."""
        flavor = self.get(None, flavor_id)
        if flavor.is_public:
            raise errors.FlavorAccessNotFound(flavor_id)
        return [entry.project_id for entry in flavor.projects]

    def add_access(self, flavor_id: str, project_id: str) -> list[str]:
        with self.writing(errors.FlavorAccessExists(flavor_id, project_id)) as session:
            flavor = session.get(Flavor, flavor_id)
            if flavor is None:
                raise errors.FlavorNotFound(flavor_id)
            if flavor.is_public:
                raise errors.InvalidInput("Can not add access to a public flavor.")
            if any(entry.project_id == project_id for entry in flavor.projects):
                raise errors.FlavorAccessExists(flavor_id, project_id)
            flavor.projects.append(FlavorProject(project_id=project_id))
        return self.access(flavor_id)

    def remove_access(self, flavor_id: str, project_id: str) -> list[str]:
        with self.writing() as session:
            flavor = session.get(Flavor, flavor_id)
            if flavor is None:
                raise errors.FlavorNotFound(flavor_id)
            found = [entry for entry in flavor.projects if entry.project_id == project_id]
            if not found:
                raise errors.FlavorAccessNotFound(flavor_id, project_id)
            flavor.projects.remove(found[0])
        return self.access(flavor_id)

    def create(self, caller: Caller | None, spec: FlavorSpec) -> Flavor:
        flavor_id = spec.flavor_id or str(uuid.uuid4())
        with self.writing(errors.DuplicateFlavor(f"name {spec.name} or id {flavor_id}")) as s:
            if s.scalar(select(Flavor.name).where(Flavor.name == spec.name)) is not None:
                raise errors.DuplicateFlavor(f"name {spec.name}")
            if s.get(Flavor, flavor_id) is not None:
                raise errors.DuplicateFlavor(f"id {flavor_id}")
            flavor = Flavor(
                flavor_id=flavor_id,
                name=spec.name,
                memory_mb=spec.memory_mb,
                vcpus=spec.vcpus,
                root_gb=spec.root_gb,
                ephemeral_gb=spec.ephemeral_gb,
                swap=spec.swap,
                rxtx_factor=spec.rxtx_factor,
                is_public=spec.is_public,
                description=spec.description,
                created_at=now(),
                extra_specs=[],
                projects=[],
            )
            s.add(flavor)
        return flavor

    def delete(self, flavor_id: str) -> None:
        with self.writing() as session:
            flavor = session.get(Flavor, flavor_id)
            if flavor is None:
                raise errors.FlavorNotFound(flavor_id)
            session.delete(flavor)

    def set_extra_specs(self, flavor_id: str, specs: dict[str, str]) -> Flavor:
        with self.writing() as session:
            flavor = session.get(Flavor, flavor_id)
            if flavor is None:
                raise errors.FlavorNotFound(flavor_id)
            kept = {spec.key: spec for spec in flavor.extra_specs}
            for key, value in specs.items():
                if key in kept:
                    kept[key].value = value
                else:
                    flavor.extra_specs.append(FlavorExtraSpec(key=key, value=value))
        return self.get(None, flavor_id)

    def remove_extra_spec(self, flavor_id: str, key: str) -> None:
        with self.writing() as session:
            flavor = session.get(Flavor, flavor_id)
            if flavor is None:
                raise errors.FlavorNotFound(flavor_id)
            found = [spec for spec in flavor.extra_specs if spec.key == key]
            if not found:
                raise errors.ExtraSpecNotFound(flavor_id, key)
            flavor.extra_specs.remove(found[0])

    def ensure_defaults(self) -> None:
        """DevStack's flavors, created once (a flavor an operator deleted is not recreated
        while any flavor exists)."""
        with self.db.reader() as session:
            if session.scalar(select(Flavor.flavor_id).limit(1)) is not None:
                return
        for spec in DEFAULTS:
            with contextlib.suppress(errors.DuplicateFlavor):  # another process bootstraps too
                self.create(None, spec)


def _visible(caller: Caller, flavor: Flavor) -> bool:
    return (
        flavor.is_public
        or caller.is_admin
        or any(entry.project_id == caller.project_id for entry in flavor.projects)
    )


def _numeric(flavor_id: str) -> int:
    return int(flavor_id) if flavor_id.isdigit() else 1 << 62
