"""Everything the site keeps about one user, as a zip: "Download all my data".

The zip is written to a temporary file (results of long videos do not fit in memory comfortably) and
streamed from there. Inside:

- README.txt          what each file is;
- account.json        the account (no password hash, no API key: those are credentials, not data);
- analyses.json       every analysis the user uploaded: its metadata, media facts and summary;
- analyses/<id>-<title>.csv   its per-frame results, the same CSV as the analysis page's download;
- studies.json        the studies they own: members, participant codes, conditions;
- live_sessions.json  their stored live sessions: facts and timeline, as the session's JSON export;
- stimuli.json and recordings/<id>-<participant>.csv  the stimuli of the studies they own, with
  markers, links and participants' recordings, and each recording's frames (stimuli_dump.py).

Uploaded originals and annotated media are not copied in (a lab's videos can be gigabytes): each
analysis' page downloads them, and analyses.json says which are still stored.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from typing import IO

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from django.utils.text import slugify

from emotion.live import exports as live_exports
from emotion.research.exports.analysis import csv_chunks, media_facts
from emotion.research.models import Analysis, Study

from . import stimuli_dump

README = """Your data from the FER site, exported {when}.

account.json        your account
analyses.json       your analyses (uploads): metadata, media facts, summary; "original_stored" and
                    "annotated_stored" say whether those files are still kept on the site
analyses/*.csv      per-frame results of each analysis (columns as on the site's CSV download)
studies.json        the studies you own, with their members, participant codes and conditions
live_sessions.json  your stored live sessions, with their emotion timelines
stimuli.json        the stimuli of the studies you own: markers, invitation links (never their keys),
                    and the participants' recordings (remote sessions and attached uploads) with gaps
recordings/*.csv    each recording's frames on the stimulus' time axis (as the recording's CSV download)

Originals, annotated media and stimulus files are not in this zip: download them from each analysis'
or stimulus' page.
"""


def _json(value) -> str:
    return json.dumps(value, indent=1, default=str)


def account_info(user) -> dict:
    from rest_framework.authtoken.models import Token

    token = Token.objects.filter(user=user).only("created").first()
    return {"username": user.get_username(), "email": user.email, "first_name": user.first_name,
            "last_name": user.last_name, "date_joined": user.date_joined, "last_login": user.last_login,
            "is_staff": user.is_staff, "api_token_created": token.created if token else None}


def analysis_info(a: Analysis) -> dict:
    try:
        purged = a.purged_media
    except ObjectDoesNotExist:
        purged = None
    return {"id": a.pk, "title": a.title, "notes": a.notes, "created_at": a.created_at, "status": a.status,
            "error": a.error, "notice": a.notice, "model_version": a.model_version, "media": media_facts(a),
            "study": a.study.name if a.study_id else None,
            "participant": a.participant.code if a.participant_id else None,
            "condition": a.condition.name if a.condition_id else None, "tags": a.tags,
            "is_baseline": a.is_baseline, "summary": a.summary, "result_count": a.result_count,
            "face_count": a.face_count, "original_stored": bool(a.file.name),
            "annotated_stored": bool(a.annotated.name),
            "original_purged_at": purged.original_purged_at if purged else None,
            "results_file": f"analyses/{_csv_name(a)}" if a.result_count else None}


def study_info(study: Study) -> dict:
    return {"id": study.pk, "name": study.name, "description": study.description, "created_at": study.created_at,
            "members": [{"username": m.user.get_username(), "role": m.role}
                        # invitations not yet accepted are left out, as on the study's page: the
                        # owner learns which names exist only when someone joins
                        for m in study.memberships.filter(accepted=True).select_related("user")],
            "participants": list(study.participants.values_list("code", flat=True)),
            "conditions": list(study.conditions.values_list("name", flat=True)),
            "analyses": list(study.analyses.values_list("pk", flat=True)),
            "stimuli": list(study.stimuli.values_list("pk", flat=True))}


def _csv_name(a: Analysis) -> str:
    return f"{a.pk}-{slugify(str(a))[:60] or 'analysis'}.csv"


def write_zip(user, out: IO[bytes]) -> None:
    analyses = list(Analysis.objects.filter(owner=user).select_related("study", "participant", "condition")
                    .order_by("pk"))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("README.txt", README.format(when=timezone.now().strftime("%Y-%m-%d %H:%M %Z")))
        zf.writestr("account.json", _json(account_info(user)))
        zf.writestr("analyses.json", _json([analysis_info(a) for a in analyses]))
        for a in analyses:
            if a.result_count:
                with zf.open(f"analyses/{_csv_name(a)}", "w") as fh:
                    for chunk in csv_chunks([a]):
                        fh.write(chunk.encode())
        zf.writestr("studies.json", _json([study_info(s) for s in Study.objects.filter(owner=user).order_by("pk")]))
        sessions = user.live_sessions.order_by("started_at")
        zf.writestr("live_sessions.json", _json([{**live_exports.facts(s), "timeline": list(live_exports.points(s))}
                                                 for s in sessions]))
        stimuli_dump.write(user, zf, _json)


def build(user) -> IO[bytes]:
    """The zip in a temporary file, rewound; closing it deletes it."""
    out = tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR)
    try:
        write_zip(user, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def filename(user) -> str:
    return f"fer-data-{slugify(user.get_username()) or 'user'}-{timezone.now():%Y%m%d}.zip"
