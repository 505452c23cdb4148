"""The catalog's shipped namespaces (onestack/image/metadefs/*.json): the properties onestack's
compute understands, and the resource types they apply to.

At start only the missing namespaces are added, so an operator's changes stay; `onestack image
metadefs load` puts the shipped ones back as shipped (replacing those of the same name).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from onestack.image.manager import metadef_docs as docs
from onestack.image.manager.base import ImageBase, now
from onestack.image.manager.metadefs import add_namespace, read_contents
from onestack.image.models import MetadefNamespace, MetadefResourceType

DEFAULTS_DIR = Path(__file__).parent.parent / "metadefs"


def shipped(directory: Path = DEFAULTS_DIR) -> list[dict[str, Any]]:
    """Every shipped document ({"resource_types": [...], "namespaces": [...]}), by file name."""
    return [json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))]


class DefaultsLoader(ImageBase):
    def load(self, replace: bool = False) -> list[str]:
        """Add the shipped namespaces that are missing (all of them again, `replace`);
        the names of those written."""
        written: list[str] = []
        with self.writing() as session:
            for document in shipped():
                for name in document.get("resource_types", []):
                    if session.get(MetadefResourceType, name) is None:
                        moment = now()
                        session.add(
                            MetadefResourceType(
                                name=name, protected=True, created_at=moment, updated_at=moment
                            )
                        )
                session.flush()
                for body in document.get("namespaces", []):
                    name = body["namespace"]
                    existing = session.scalar(
                        select(MetadefNamespace).where(MetadefNamespace.namespace == name)
                    )
                    if existing is not None and not replace:
                        continue
                    if existing is not None:
                        session.delete(existing)
                        session.flush()
                    add_namespace(session, docs.namespace(body), read_contents(body))
                    written.append(name)
        return written
