"""The emotion engine: face detection, the CNN-LSTM and tracking. Pure PyTorch and OpenCV: no Django."""

from .engine import Engine, EmotionStream, load_engine  # noqa: F401
from .results import COLUMNS, FaceResult  # noqa: F401
from .labels import EMOTIONS  # noqa: F401
from .media import MediaError, TruncatedVideoError, UnreadableMediaError  # noqa: F401
