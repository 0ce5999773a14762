"""The seven FER2013 classes, in the data set's canonical label order 0..6."""

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES = len(EMOTIONS)
