"""Building blocks of the identity request models: field types and the two body kinds.

An `Envelope` (`{"project": {...}}`) refuses unknown keys; `Attributes` (the resource inside
it) keeps unknown ones, as Keystone does, so they land in the row's `extra`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from onestack.common.errors import BadRequest

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, strict=True)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255, strict=True)]
# Projects and domains (Keystone's resource names): up to 64, not only blanks.
ResourceName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"\S", strict=True)
]
# Users and groups: a name must hold something other than blanks.
VisibleName = Annotated[
    str, StringConstraints(min_length=1, max_length=255, pattern=r"\S", strict=True)
]
Description = Annotated[str, StringConstraints(max_length=65535, strict=True)]


# Validators are built on first use, not at import: there are dozens of models and building
# them all took a tenth of the start time. Subclasses inherit the setting.
class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class Attributes(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)


def timestamp_field(raw: str | None, field: str) -> datetime | None:
    """An ISO 8601 body field, with or without a zone (none means UTC), as naive UTC."""
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest(
            f"Invalid input for field '{field}': {raw!r} is not an ISO 8601 timestamp."
        ) from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
