"""Studies and their members: creating and deleting a study, inviting, answering, removing members.
Who may do what is decided by the callers, with the rule of emotion/access.py."""

from __future__ import annotations

from typing import Optional

from django.core.files.storage import default_storage
from django.db import transaction

from emotion.web.badtext import bad_character
from emotion.web.refusals import Refused

from ..models import TITLE_LENGTH, Condition, Participant, Study, StudyMember


def create_study(owner, name: str, description: str = "") -> Study:
    name = (name or "").strip()
    if not name:
        raise Refused("Give the study a name.", "name")
    if len(name) > TITLE_LENGTH:
        raise Refused(f"The name is longer than {TITLE_LENGTH} characters.", "name")
    return Study.objects.create(owner=owner, name=name, description=description or "")


def invite_member(study: Study, username: str, role: str) -> Optional[StudyMember]:
    """Invite a user by name, or change the role of a member or invitee. Returns their membership, or None
    when no active account has that name: the caller answers both alike (see invited_message), so that the
    owner learns nothing of which names exist. A new invitation grants nothing until it is accepted."""
    from django.contrib.auth import get_user_model

    if role not in StudyMember.Role.values:
        raise Refused(f"The role must be one of: {', '.join(StudyMember.Role.values)}.", "role")
    name = (username or "").strip()
    if not name:
        raise Refused("Give the user name of the person to invite.", "username")
    if name == study.owner.get_username():
        raise Refused("The study's owner is already in it, with every right.", "username")
    user = get_user_model().objects.filter(username=name, is_active=True).first()
    if user is None:
        return None
    member, _ = StudyMember.objects.update_or_create(study=study, user=user, defaults={"role": role})
    return member


def invited_message(username: str, role: str, member: Optional[StudyMember]) -> str:
    """What the owner is told: a member they already see gets their new role; for anyone else, the same
    words whether or not the account exists."""
    name, a_role = (username or "").strip()[:150], with_article(role)
    if member is not None and member.accepted:
        return f"{member.user.username} is now {a_role} of this study."
    return f"If an account named “{name}” exists, it was invited as {a_role}; it becomes a member when it accepts."


def with_article(role: str) -> str:
    return f"{'an' if role == StudyMember.Role.EDITOR else 'a'} {role}"


def pending_invitations(user) -> list:
    """The invitations waiting for the user's answer, with their studies."""
    return list(StudyMember.objects.filter(user=user, accepted=False).select_related("study", "study__owner")
                .order_by("-study__created_at"))


def answer_invitation(study_id: int, user, accept: bool) -> Optional[StudyMember]:
    """Accept the user's pending invitation into the study (they become a member), or decline it (it is
    gone). None when there is no such invitation."""
    member = StudyMember.objects.filter(study_id=study_id, user=user, accepted=False).select_related("study").first()
    if member is None:
        return None
    if accept:
        member.accepted = True
        member.save(update_fields=["accepted"])
    else:
        member.delete()
    return member


def remove_member(study: Study, user_id: int) -> bool:
    return StudyMember.objects.filter(study=study, user_id=user_id).delete()[0] > 0


def delete_study(study: Study) -> int:
    """The study, its participants, conditions and members, and its analyses with their files (after the
    commit, so a rollback keeps them). Returns how many analyses went."""
    names = []
    with transaction.atomic():
        analyses = list(study.analyses.all())
        for a in analyses:
            names += a.stored_names()
            a.delete()
        study.delete()
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names])
    return len(analyses)


# --- participants and conditions, by code and name ----------------------------------------------------

MAX_KEY = {"participant": Participant._meta.get_field("code").max_length,
           "condition": Condition._meta.get_field("name").max_length}


def study_key(field: str, study: Optional[Study], value: Optional[str]) -> str:
    """A participant code or condition name, stripped and checked: "" means none."""
    value = (value or "").strip()
    if not value:
        return ""
    if study is None:
        raise Refused(f"A {field} belongs to a study: choose the study first.", field)
    if len(value) > MAX_KEY[field]:
        raise Refused(f"The {field} is longer than {MAX_KEY[field]} characters.", field)
    what = bad_character(value)
    if what:
        raise Refused(f"The {field} contains {what}; remove it and send again.", field)
    return value


def participant_named(study: Study, code: str) -> Optional[Participant]:
    return Participant.objects.get_or_create(study=study, code=code)[0] if code else None


def condition_named(study: Study, name: str) -> Optional[Condition]:
    return Condition.objects.get_or_create(study=study, name=name)[0] if name else None
