"""The study pages: the list of one's studies with a create form, and a study's page (its analyses,
participants, conditions and members; uploads into it; managing members; deleting it). Who may do what
is emotion/access.py: viewers read, editors also upload, the owner also manages and deletes; Django's
permissions extend each of these to everyone's studies."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from emotion.access import study_may, study_role, visible_analyses, visible_studies
from emotion.web.refusals import refusal

from ..analyses import services
from ..analyses.upload_views import upload, upload_limits
from ..models import Role, Study
from . import services as study_services
from .variables import category_choices

NEEDS = {"upload": "Uploading into this study takes the editor role; you may view it only.",
         "edit": "Changing this study's variables takes the editor role; you may view it only.",
         "members": "Only the study's owner may do this.", "delete": "Only the study's owner may do this."}


def _study(request, pk: int) -> Study:
    """The study; a study the user may not see is a 404, like an analysis."""
    return get_object_or_404(visible_studies(request.user), pk=pk)


def _denied(request, study: Study, action: str):
    if study_may(request.user, study, action):
        return None
    return refusal(request, 403, "Not allowed", NEEDS[action])


@login_required
def study_list(request):
    if request.method == "POST":
        name, description = request.POST.get("name", ""), request.POST.get("description", "")
        try:
            study = study_services.create_study(request.user, name, description)
        except services.Refused as exc:
            messages.error(request, str(exc))
            return _list_page(request, {"name": name, "description": description}, status=400)
        messages.success(request, f"Created the study “{study}”. Add members and upload its videos below.")
        return redirect("research:study", study.pk)
    return _list_page(request)


def _list_page(request, sent: dict = None, status: int = 200):
    studies = visible_studies(request.user).annotate(analysis_count=Count("analyses"))
    studies = [(s, study_role(request.user, s)) for s in studies]
    return render(request, "research/study_list.html", {
        "studies": studies, "sent": sent or {}, "invitations": study_services.pending_invitations(request.user)},
        status=status)


@login_required
def study_detail(request, pk: int):
    study = _study(request, pk)
    if request.method == "POST":
        denied = _denied(request, study, "upload")
        return denied or upload(request, study, page=lambda status: study_page(request, study, status))
    return study_page(request, study)


def study_page(request, study: Study, status: int = 200):
    role = study_role(request.user, study)
    analyses = (visible_analyses(request.user).filter(study=study)
                .order_by("participant__code", "condition__name", "-created_at"))
    page = Paginator(analyses, 50).get_page(request.GET.get("page"))
    return render(request, "research/study_detail.html", {
        "study": study, "role": role, "page": page, "limits": upload_limits(),
        "can_upload": study_may(request.user, study, "upload"),
        "can_manage": study_may(request.user, study, "members"), "can_delete": study_may(request.user, study, "delete"),
        "members": study.memberships.filter(accepted=True).select_related("user").order_by("user__username"),
        "participants": study.participants.all(), "conditions": study.conditions.all(),
        "member_roles": [Role.VIEWER, Role.EDITOR], "can_edit": study_may(request.user, study, "edit"),
        "variables": study.variables.all(), "category_choices": category_choices(study),
    }, status=status)


@login_required
@require_POST
def study_members(request, pk: int):
    """Invite a member (or change their role), or remove one (``remove`` = their user id)."""
    study = _study(request, pk)
    denied = _denied(request, study, "members")
    if denied:
        return denied
    if request.POST.get("remove"):
        try:
            removed = study_services.remove_member(study, int(request.POST["remove"]))
        except ValueError:
            removed = False
        (messages.success if removed else messages.error)(
            request, "Removed the member." if removed else "That user is not a member of this study.")
        return redirect("research:study", study.pk)
    username, role = request.POST.get("username", ""), request.POST.get("role", Role.VIEWER)
    try:
        member = study_services.invite_member(study, username, role)
    except services.Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, study_services.invited_message(username, role, member))
    return redirect("research:study", study.pk)


@login_required
@require_POST
def study_invitation(request, pk: int):
    """The invited user's answer (``answer`` = accept or decline); no invitation waiting is a 404."""
    accept = request.POST.get("answer") == "accept"
    member = study_services.answer_invitation(pk, request.user, accept)
    if member is None:
        raise Http404("No invitation to this study is waiting for you")
    if accept:
        messages.success(request, f"You are now {study_services.with_article(member.role)} of “{member.study}”.")
        return redirect("research:study", pk)
    messages.success(request, f"Declined the invitation to “{member.study}”.")
    return redirect("research:studies")


@login_required
@require_POST
def study_delete(request, pk: int):
    study = _study(request, pk)
    denied = _denied(request, study, "delete")
    if denied:
        return denied
    name = str(study)
    count = study_services.delete_study(study)
    messages.success(request, f"Deleted the study “{name}” and its {count} analys{'is' if count == 1 else 'es'}.")
    return redirect("research:studies")
