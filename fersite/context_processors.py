"""What every page's scripts need to know about emotions, from the one definition in emotion/ml.

Templates write it out once with ``{{ fer_emotions|json_script:"fer-emotions" }}`` (base.html, and
the admin's session page); static/live/colors.js reads it for every script on the page.
"""

from emotion.ml.labels import EMOTION_COLOURS, EMOTIONS, UNRELIABLE_COLOUR
from emotion.ml.quality import RULE

FER_EMOTIONS = {
    "emotions": list(EMOTIONS),                 # the model's label order, as in every stored result
    "colours": dict(EMOTION_COLOURS),
    "unreliable": UNRELIABLE_COLOUR,            # what an unreliable result is drawn in
    "rule": RULE,                               # when a result is reliable, in words
    # Series that are not emotions (a study's conditions side by side), told apart from each other
    "series": ["#2f6fdb", "#e8743b", "#19a979", "#945ecf", "#ed4a7b", "#13a4b4", "#6c8893", "#bf399e"],
}


def emotions(request):
    return {"fer_emotions": FER_EMOTIONS}
