"""What every page's scripts need to know about emotions, from the one definition in emotion/ml.

Templates write it out once with ``{{ fer_emotions|json_script:"fer-emotions" }}`` (base.html, and
the admin's session page); static/live/colors.js reads it for every script on the page. Pages that
draw a label say why it can differ from the longest bar with ``{% include "_label_rule.html" %}``.
"""

from emotion.ml.labelling import LABEL_MARGIN, LABEL_STEPS, NOMINAL_FPS
from emotion.ml.labels import EMOTION_COLOURS, EMOTIONS, UNRELIABLE_COLOUR
from emotion.ml.quality import RULE

# Why a shown label can differ from the most probable emotion, with the engine's own numbers.
LABEL_RULE = (f"In a video or a live stream, a face keeps its label until another emotion's probability is more "
              f"than {LABEL_MARGIN:g} above it, or has been the highest for {LABEL_STEPS / NOMINAL_FPS:.2g} s in a row, "
              "so that near ties do not flicker: the label can differ from the longest bar. A still image's label "
              "is its most probable emotion. Exports give both: dominant (the label shown) and top (the most probable).")

FER_EMOTIONS = {
    "emotions": list(EMOTIONS),                 # the model's label order, as in every stored result
    "colours": dict(EMOTION_COLOURS),
    "unreliable": UNRELIABLE_COLOUR,            # what an unreliable result is drawn in
    "rule": RULE,                               # when a result is reliable, in words
    "label_rule": LABEL_RULE,                   # why the shown label can differ from the longest bar
    # Series that are not emotions (a study's conditions side by side), told apart from each other
    "series": ["#2f6fdb", "#e8743b", "#19a979", "#945ecf", "#ed4a7b", "#13a4b4", "#6c8893", "#bf399e"],
}


def emotions(request):
    return {"fer_emotions": FER_EMOTIONS}
