"""Image members: the projects an owner shares a `shared` image with, and their answers.

The owner (or an admin) adds and removes members; a member answers for itself (pending,
accepted, rejected). Anyone else sees only their own membership, so the member list never
tells a project who else an image is shared with.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.image import errors
from onestack.image.manager.base import Caller, ImageBase, get_visible, now, owns
from onestack.image.models import Image, ImageMember

STATUSES = ("pending", "accepted", "rejected")


class MemberManager(ImageBase):
    def list(self, caller: Caller, image_id: str) -> list[ImageMember]:
        with self.db.reader() as session:
            image = get_visible(session, caller, image_id)
            statement = select(ImageMember).where(ImageMember.image_id == image_id)
            if not (caller.is_admin or owns(caller, image)):
                statement = statement.where(ImageMember.member_id == caller.project_id)
            return list(session.scalars(statement.order_by(ImageMember.created_at)))

    def get(self, caller: Caller, image_id: str, member_id: str) -> ImageMember:
        with self.db.reader() as session:
            return self._get(session, caller, image_id, member_id)

    def add(self, caller: Caller, image_id: str, member_id: str) -> ImageMember:
        if not member_id or len(member_id) > 255 or "\x00" in member_id:
            raise errors.InvalidParameter("'member' must be a project id of 1 to 255 characters.")
        with self.writing(errors.DuplicateMember(image_id, member_id)) as session:
            image = get_visible(session, caller, image_id)
            if image.visibility != "shared":
                raise errors.NotShared(image.visibility)
            moment = now()
            member = ImageMember(
                image_id=image_id,
                member_id=member_id,
                status="pending",
                created_at=moment,
                updated_at=moment,
            )
            session.add(member)
        self._notify(caller, "create", member)
        return member

    def update(self, caller: Caller, image_id: str, member_id: str, status: object) -> ImageMember:
        if status not in STATUSES:
            raise errors.InvalidParameter(f"'status' must be one of {', '.join(STATUSES)}.")
        with self.writing() as session:
            member = self._get(session, caller, image_id, member_id)
            member.status = str(status)
            member.updated_at = now()
        self._notify(caller, "update", member)
        return member

    def remove(self, caller: Caller, image_id: str, member_id: str) -> None:
        with self.writing() as session:
            member = self._get(session, caller, image_id, member_id)
            session.delete(member)
        self._notify(caller, "delete", member)

    def _get(self, session: Session, caller: Caller, image_id: str, member_id: str) -> ImageMember:
        """The membership, if the caller owns the image, is an admin, or is that member."""
        image: Image = get_visible(session, caller, image_id)
        member = session.get(ImageMember, (image_id, member_id))
        mine = caller.is_admin or owns(caller, image) or member_id == caller.project_id
        if member is None or not mine:
            raise errors.MemberNotFound(image_id, member_id)
        return member

    def _notify(self, caller: Caller, event: str, member: ImageMember) -> None:
        payload = {
            "image_id": member.image_id,
            "member_id": member.member_id,
            "status": member.status,
            "initiator": caller.ctx.initiator(),
        }
        self.notifier.info(f"image.member.{event}", payload)
