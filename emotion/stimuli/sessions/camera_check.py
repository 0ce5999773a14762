"""The camera check before a remote session: is the participant's face there, and would the engine
trust what it sees? Read from the live engine's reply for one frame (its faces and their quality
measures), with the limits of the reliability rule (emotion/ml/quality.py), so the page says what to
fix in the participant's words.

The model's own confidence is left out: it is about the expression, not the camera, and a neutral
face before the stimulus is often read with little confidence.
"""

from __future__ import annotations

from typing import List, Optional, Sequence

from emotion.live.recorder import main_face
from emotion.ml.quality import BRIGHTNESS_RANGE, MAX_NOISE, MIN_FACE_SIZE, MIN_SHARPNESS
from emotion.ml.results import DETECTED

ADVICE = {
    "no_face": "No face found: sit facing the screen, your whole face in the picture.",
    "not_clear": "Your face is not clearly seen: look straight at the screen and keep it uncovered.",
    "too_small": "Your face is too small in the picture: move closer to the camera.",
    "too_dark": "Too dark: turn on a light in front of you, or face a window.",
    "too_bright": "Too bright: move away from a light or window shining into the camera.",
    "blurred": "The picture is blurred: keep still, and clean or focus the camera.",
    "noisy": "The picture is grainy: add light in front of you.",
}
GOOD = "Face found, light good."


def problems(faces: Sequence[dict]) -> List[str]:
    """Codes of ADVICE for what is wrong with the followed (largest) face; empty when it is fine."""
    face: Optional[dict] = main_face(faces)
    if face is None:
        return ["no_face"]
    found = []
    if face.get("source", DETECTED) != DETECTED:
        found.append("not_clear")
    if face.get("face_size") is not None and face["face_size"] < MIN_FACE_SIZE:
        found.append("too_small")
    brightness = face.get("brightness")
    if brightness is not None and brightness < BRIGHTNESS_RANGE[0]:
        found.append("too_dark")
    elif brightness is not None and brightness > BRIGHTNESS_RANGE[1]:
        found.append("too_bright")
    if face.get("sharpness") is not None and face["sharpness"] < MIN_SHARPNESS:
        found.append("blurred")
    if face.get("noise") is not None and face["noise"] > MAX_NOISE:
        found.append("noisy")
    return found


def reply(seq: int, faces: Sequence[dict]) -> dict:
    """The socket's answer to one check frame (sessions/protocol.py documents it)."""
    found = problems(faces)
    face = main_face(faces)
    return {"type": "check", "seq": seq, "face": face is not None, "ok": not found,
            "reliable": None if face is None else face.get("reliable"),
            "problems": [{"code": c, "message": ADVICE[c]} for c in found], "message": GOOD if not found else
            ADVICE[found[0]]}
