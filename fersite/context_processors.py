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
}


def emotions(request):
    return {"fer_emotions": FER_EMOTIONS}
