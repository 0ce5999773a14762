"""Deleting an account with everything that is the user's ("Delete my account").

What goes, in one transaction (files after the commit, so a failure keeps both rows and files):
- the studies they own, with every analysis in them (their members' uploads too: a study is its
  owner's, and research.study_services.delete_study removes it whole, files included). A member's uploads
  going with the study is the same rule as the study page's own delete. Its stimuli go along with their
  markers, links, participants' recordings and frames (CASCADE), their files after the commit
  (stimuli.services.forget_file). Stimuli they added to someone else's study stay: they are that
  study's material, like the recordings made with them;
- every other analysis they uploaded, also those in someone else's study (the uploader's data goes
  with them; the study's owner keeps the rest of the study), through research.services.delete_analysis;
- their stored live sessions (the user key would only be emptied: SET_NULL) and their API token;
- the user, with their study memberships.
"""

from __future__ import annotations

from django.db import transaction

from emotion.research.analyses import services
from emotion.research.studies import services as study_services
from emotion.research.models import Analysis, Study


def delete_account(user) -> dict:
    """Returns what went: {"studies", "analyses", "live_sessions"}."""
    from rest_framework.authtoken.models import Token

    counts = {"studies": 0, "analyses": 0, "live_sessions": 0}
    with transaction.atomic():
        for study in Study.objects.filter(owner=user):
            counts["analyses"] += study_services.delete_study(study)
            counts["studies"] += 1
        for analysis in Analysis.objects.filter(owner=user):
            services.delete_analysis(analysis)
            counts["analyses"] += 1
        counts["live_sessions"] = user.live_sessions.all().delete()[0]
        Token.objects.filter(user=user).delete()
        user.delete()
    return counts
