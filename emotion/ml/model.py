"""The CNN-LSTM: a VGG-style CNN embeds each 48x48 face; an LSTM over a face's frames refines it.

The temporal head is residual: ``logits_t = cnn_logits_t + lstm_correction_t``, with the correction's
output layer initialised at zero. A sequence of one frame (a still image) therefore starts out as
exactly the per-frame CNN, and stage 2 only has to learn what time adds, not relearn the classes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional, Tuple

import torch
import torch.nn as nn

from .labels import NUM_CLASSES

State = Tuple[torch.Tensor, torch.Tensor]


@dataclass
class ModelConfig:
    widths: Tuple[int, ...] = (32, 64, 128, 256)  # channels of each conv stage; each stage halves H, W
    convs_per_stage: int = 2          # 3x3 conv-BN-ReLU layers before each pooling
    feature_dim: int = 256            # size of the per-face feature vector the LSTM reads
    dropout: float = 0.4              # before the classifiers, while training
    lstm_hidden: int = 128            # LSTM state size per tracked face
    cell_limit: float = 0.0           # the LSTM cell state is clipped to +-this after each call (0: never);
                                      # streams call once per frame, so a session's state stays bounded
    num_classes: int = NUM_CLASSES

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        d = dict(d)
        d["widths"] = tuple(d["widths"])
        return cls(**d)


def conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class FaceCNN(nn.Module):
    """(B, 1, 48, 48) normalised faces -> (B, feature_dim) features and (B, classes) logits."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        layers, cin = [], 1
        for width in cfg.widths:
            for _ in range(cfg.convs_per_stage):
                layers.append(conv_bn_relu(cin, width))
                cin = width
            layers.append(nn.MaxPool2d(2))
        self.body = nn.Sequential(*layers)
        self.embed = nn.Sequential(
            nn.Flatten(), nn.Dropout(cfg.dropout),
            nn.Linear(cin * (48 // 2 ** len(cfg.widths)) ** 2, cfg.feature_dim, bias=False),
            nn.BatchNorm1d(cfg.feature_dim), nn.ReLU(inplace=True),
        )
        self.classify = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(cfg.feature_dim, cfg.num_classes))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        feats = self.embed(self.body(x))   # (B, F)
        return feats, self.classify(feats)  # (B, F), (B, C)


class TemporalHead(nn.Module):
    """LSTM over per-frame (features, CNN probabilities) -> a residual correction of the CNN logits."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.lstm = nn.LSTM(cfg.feature_dim + cfg.num_classes, cfg.lstm_hidden, batch_first=True)
        self.correct = nn.Linear(cfg.lstm_hidden, cfg.num_classes)
        self.cell_limit = cfg.cell_limit
        nn.init.zeros_(self.correct.weight)
        nn.init.zeros_(self.correct.bias)

    def forward(self, feats: torch.Tensor, logits: torch.Tensor, state: Optional[State] = None):
        # feats (B, T, F), logits (B, T, C) -> refined logits (B, T, C), new state
        inp = torch.cat([feats, logits.softmax(-1)], dim=-1)
        out, state = self.lstm(inp, state)
        if self.cell_limit:
            # beyond a few units tanh(c) no longer changes, but a cell that keeps integrating would take
            # ever longer to forget: clipping bounds how long any past frame can hold the output
            state = (state[0], state[1].clamp(-self.cell_limit, self.cell_limit))
        return logits + self.correct(out), state


class EmotionNet(nn.Module):
    def __init__(self, cfg: ModelConfig = ModelConfig()):
        super().__init__()
        self.cfg = cfg
        self.cnn = FaceCNN(cfg)
        self.temporal = TemporalHead(cfg)
        # Added to the output logits (per-frame and refined alike) when probabilities are reported;
        # set after training by ``calibrate`` on PublicTest, zero before.
        self.register_buffer("output_bias", torch.zeros(cfg.num_classes))

    def probs(self, logits: torch.Tensor) -> torch.Tensor:
        """Reported probabilities of (…, C) logits."""
        return (logits + self.output_bias).softmax(-1)

    def frames(self, x: torch.Tensor, tta: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
        """(N, 1, 48, 48) standardised faces -> features (N, F), CNN logits (N, C).

        With tta the face and its mirror image are averaged: a cheap, reliable gain on FER2013, and
        training, evaluation and the engine all use this same function so they cannot disagree.
        """
        if not tta:
            feats, logits = self.cnn(x)
            return feats.float(), logits.float()
        n = x.shape[0]
        feats, logits = self.cnn(torch.cat([x, x.flip(-1)]))   # one call: small batches run faster
        return ((feats[:n] + feats[n:]) / 2).float(), ((logits[:n] + logits[n:]) / 2).float()

    def forward(self, x: torch.Tensor, state: Optional[State] = None, tta: bool = True):
        """x (B, T, 1, 48, 48) -> refined logits (B, T, C), per-frame CNN logits (B, T, C), state."""
        b, t = x.shape[:2]
        feats, logits = self.frames(x.flatten(0, 1), tta)
        feats, logits = feats.view(b, t, -1), logits.view(b, t, -1)
        refined, state = self.temporal(feats, logits, state)
        return refined, logits, state


@torch.no_grad()
def fuse_batchnorm(model: EmotionNet) -> EmotionNet:
    """Fold each BatchNorm into the conv or linear layer before it (inference only): same outputs,
    about a third fewer kernel launches on the per-frame path."""
    def fold(layer, bn):
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        shape = (-1,) + (1,) * (layer.weight.dim() - 1)
        layer.weight.mul_(scale.view(shape))
        bias = layer.bias if layer.bias is not None else torch.zeros_like(bn.running_mean)
        layer.bias = nn.Parameter(bn.bias + (bias - bn.running_mean) * scale)

    for seq in model.cnn.modules():
        if isinstance(seq, nn.Sequential):
            for i in range(len(seq) - 1):
                if isinstance(seq[i], (nn.Conv2d, nn.Linear)) and isinstance(seq[i + 1], (nn.BatchNorm2d, nn.BatchNorm1d)):
                    fold(seq[i], seq[i + 1])
                    seq[i + 1] = nn.Identity()
    return model
