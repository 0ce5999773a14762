"""What a new model card keeps of the card it replaces, so that shipping a model never loses the record.

The replaced model becomes the first entry of ``history`` (its scores, configs, calibration and
robustness, without the per-epoch curves' duplicates in its own history), and what describes the
project's choices rather than one model (the candidates that were not shipped, the normalisation
ablation, the soft-target lineage, the notes) is carried as it was, for the new card to extend.
"""

from __future__ import annotations

# A model's own record: kept in its history entry.
OWN = ("name", "checkpoint_sha256", "model_config", "stage1", "calibration", "stage2", "evaluation",
       "robustness", "reliability", "stream_view", "shown_label", "trained_on")
# The project's record across models: carried to the new card unchanged.
CARRIED = ("candidates_not_shipped", "normalisation_ablation", "lineage", "notes")


def carried_forward(previous: dict) -> dict:
    """The parts of a new card that come from ``previous`` (the card of the model it replaces)."""
    if not previous:
        return {}
    entry = {k: previous[k] for k in OWN if k in previous}
    out = {k: previous[k] for k in CARRIED if k in previous}
    out["history"] = [entry] + list(previous.get("history", []))
    return out
