"""Who may reach what: the one rule the pages, the API, the sockets and the /media/ links ask.

A signed-in user reaches their own analyses and live sessions, and the studies they own or are a member
of, by their role in each (owner, editor, viewer: research.models.Role). Anything beyond that, other
people's data, is reached only through Django's permissions, given in the admin to the user or a group,
or by being a superuser (who holds them all):

=============================  =====================================================================
research.view_analysis         see every analysis: pages, results, originals, annotated media, /media/,
                               the API and the /ws/analyses/<id>/ progress socket
research.change_analysis       also edit and re-run every analysis (as in the admin, change implies view)
research.delete_analysis       also delete every analysis (with view or change: what one cannot see is
                               not found)
research.view_study            see every study: its page, members, summaries and exports
research.change_study          also upload into every study and manage its members
research.delete_study          also delete every study, with its analyses
live.view_livesession          see and export every stored live session
live.delete_livesession        also delete them
=============================  =====================================================================

``is_staff`` is not among them: it lets a user through the admin's door, behind which the admin shows
only what their permissions allow. Staff with no permission get exactly what any user gets.
"""

from __future__ import annotations

from typing import Optional

from django.db import models

from emotion.live.models import LiveSession
from emotion.research.models import Analysis, Role, Study, StudyMember

ANALYSIS, STUDY, LIVE_SESSION = "research.analysis", "research.study", "live.livesession"


def others_may(user, action: str, model: str) -> bool:
    """Whether ``user`` may ``action`` ("view", "change", "delete") the ``model`` ("app.model") of
    anyone: an active user holding the permission, or a superuser. As in the admin, change implies view."""
    if not (user.is_authenticated and user.is_active):
        return False
    app, name = model.split(".")
    if user.has_perm(f"{app}.{action}_{name}"):
        return True
    return action == "view" and user.has_perm(f"{app}.change_{name}")


# --- studies ------------------------------------------------------------------------------------------
# What each action on a study takes: the least role of a member, or the permission over everyone's.
# "edit": the study's own data besides analyses (participant variables and their values).
STUDY_ACTIONS = {"view": (Role.VIEWER, "view"), "upload": (Role.EDITOR, "change"), "edit": (Role.EDITOR, "change"),
                 "members": (Role.OWNER, "change"), "delete": (Role.OWNER, "delete")}


def _memberships(user) -> models.QuerySet:
    """The user's memberships in force: an invitation not yet accepted grants nothing."""
    return StudyMember.objects.filter(user=user, accepted=True)


def visible_studies(user) -> models.QuerySet:
    """Studies the user owns or is a member of; every study with research.view_study."""
    qs = Study.objects.select_related("owner")
    if not user.is_authenticated:
        return qs.none()
    if others_may(user, "view", STUDY):
        return qs
    return qs.filter(models.Q(owner=user) | models.Q(pk__in=_memberships(user).values("study")))


def study_role(user, study: Optional[Study]) -> Optional[str]:
    """The user's own role in the study: owner, editor, viewer, or None (not a member, or no study).
    Permissions over everyone's studies are no role: see study_may."""
    if study is None or not user.is_authenticated:
        return None
    if study.owner_id == user.pk:
        return Role.OWNER
    return _memberships(user).filter(study=study).values_list("role", flat=True).first()


def study_may(user, study: Study, action: str) -> bool:
    """Whether the user may ``action`` (a key of STUDY_ACTIONS) the study: by their role, or the permission."""
    least, perm = STUDY_ACTIONS[action]
    return Role.RANK[study_role(user, study)] >= Role.RANK[least] or others_may(user, perm, STUDY)


# --- analyses -----------------------------------------------------------------------------------------
# What each need on an analysis takes beyond the user's role: viewer sees, editor edits and re-runs,
# owner deletes.
ANALYSIS_PERMS = {Role.VIEWER: "view", Role.EDITOR: "change", Role.OWNER: "delete"}


def _studies_with_role(user, least: str) -> models.QuerySet:
    roles = [r for r in (Role.VIEWER, Role.EDITOR) if Role.RANK[r] >= Role.RANK[least]]
    return Study.objects.filter(models.Q(owner=user) | models.Q(
        pk__in=_memberships(user).filter(role__in=roles).values("study"))).values("pk")


def _analyses_for(user, least: str) -> models.QuerySet:
    """The one rule behind the three below. An analysis in no study: its owner's. In a study: what the
    user's role in the study allows; its uploader keeps seeing it whatever happens. Everyone's, with the
    permission for ``least``."""
    qs = Analysis.objects.select_related("owner", "study", "participant", "condition")
    if not user.is_authenticated:
        return qs.none()
    if others_may(user, ANALYSIS_PERMS[least], ANALYSIS):
        return qs
    mine_outside = models.Q(owner=user, study__isnull=True)
    if least == Role.OWNER:
        return qs.filter(mine_outside | models.Q(study__owner=user))
    rule = mine_outside | models.Q(study__in=_studies_with_role(user, least))
    if least == Role.VIEWER:
        rule |= models.Q(owner=user)
    return qs.filter(rule)


def visible_analyses(user) -> models.QuerySet:
    """Who sees an analysis, for pages, API and sockets: its owner and the members of its study."""
    return _analyses_for(user, Role.VIEWER)


def editable_analyses(user) -> models.QuerySet:
    """Who may edit and re-run an analysis: in a study its owner and editors; outside any study the
    analysis' owner."""
    return _analyses_for(user, Role.EDITOR)


def deletable_analyses(user) -> models.QuerySet:
    """Who may delete one: in a study its owner only; outside any study the analysis' owner."""
    return _analyses_for(user, Role.OWNER)


def analysis_role(user, analysis: Analysis) -> Optional[str]:
    """The user's own role for one analysis already loaded: owner (may delete), editor (may edit and
    re-run), viewer, or None. Permissions are no role: see analysis_may."""
    if not user.is_authenticated:
        return None
    if analysis.study_id is None:
        return Role.OWNER if analysis.owner_id == user.pk else None
    role = study_role(user, analysis.study)
    return role or (Role.VIEWER if analysis.owner_id == user.pk else None)


def analysis_may(user, analysis: Analysis, need: str) -> bool:
    """Whether the user may do what ``need`` (a Role) allows with the analysis: by role, or the permission."""
    return (Role.RANK[analysis_role(user, analysis)] >= Role.RANK[need]
            or others_may(user, ANALYSIS_PERMS[need], ANALYSIS))


def serves_stored_media(user) -> bool:
    """/media/ holds uploads and annotated media under generated names, without their analysis: only those
    who may see every analysis get them; everyone else uses the analysis' own download pages."""
    return others_may(user, "view", ANALYSIS)


# --- live sessions ------------------------------------------------------------------------------------
def visible_sessions(user) -> models.QuerySet:
    """A signed-in visitor's own stored sessions; everyone's with live.view_livesession."""
    if not user.is_authenticated:
        return LiveSession.objects.none()
    if others_may(user, "view", LIVE_SESSION):
        return LiveSession.objects.all()
    return LiveSession.objects.filter(user=user)


def may_delete_session(user, session: LiveSession) -> bool:
    return (user.is_authenticated and session.user_id == user.pk) or others_may(user, "delete", LIVE_SESSION)
