"""The seven FER2013 classes, in the data set's canonical label order 0..6, and their colours.

The colours are defined here once: annotated media (annotate.py, as BGR) and every page of the site
(through the context processor emotion.web.context_processors.emotions) use these, so a box on a video
and a line on a chart mean the same emotion by colour.
"""

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES = len(EMOTIONS)

# "#rrggbb" per emotion, in EMOTIONS order. No emotion is grey: grey is what an unreliable reading is
# drawn in (neutral was #7f7f7f, and a confident neutral face looked untrusted).
EMOTION_COLOURS = {
    "angry": "#d62728", "disgust": "#8c564b", "fear": "#9467bd", "happy": "#f2b01e",
    "sad": "#1f77b4", "surprise": "#17becf", "neutral": "#2ca02c",
}
# What an unreliable result (results.py, quality.py) is drawn in, whatever its emotion.
UNRELIABLE_COLOUR = "#aaaaaa"

assert tuple(EMOTION_COLOURS) == EMOTIONS


def bgr(colour: str) -> tuple:
    """"#rrggbb" as OpenCV's (blue, green, red)."""
    value = colour.lstrip("#")
    r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    return (b, g, r)
