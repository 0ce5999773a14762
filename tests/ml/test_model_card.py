"""The shipped checkpoint and its model card belong together, and the card meets the accuracy bar."""

import hashlib
import json

from emotion.ml.engine import DEFAULT_CHECKPOINT, WEIGHTS_DIR


def card():
    return json.loads((WEIGHTS_DIR / "model_card.json").read_text())


def test_card_describes_the_shipped_weights():
    assert card()["checkpoint_sha256"] == hashlib.sha256(DEFAULT_CHECKPOINT.read_bytes()).hexdigest()


def test_card_reports_privatetest_scores_at_the_bar():
    ev = card()["evaluation"]["private_test"]["cnn_lstm_sequence_of_one"]
    assert ev["accuracy"] >= 0.68 and ev["macro_f1"] >= 0.66
    assert sum(map(sum, ev["confusion"])) == 3589          # every PrivateTest face, scored once


def test_card_temporal_benchmark_has_the_three_methods():
    tb = card()["evaluation"]["temporal_benchmark"]
    names = [k for k, v in tb.items() if isinstance(v, dict)]
    assert names[0] == "per_frame_cnn" and names[-1] == "cnn_lstm" and names[1].startswith("cnn_ema_alpha_")
    for row in (tb[n] for n in names):
        assert {"frame_accuracy", "macro_recall", "macro_f1", "flicker_per_100", "lag_frames"} <= set(row)
