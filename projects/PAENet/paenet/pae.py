"""Progressive attribute embedding (PAE), PAENet Sec. 3.2, Eq. 3-7: Embedding-I, II and III in cascade.

Follows the paper's text where its released code differs (see projects/PAENet/README.md)."""
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "CrossAttentionEmbedding",
    "AttributeGuidedSpatialAttention",
    "AttributeChannelGates",
    "PAEOutput",
    "PAE",
]


class CrossAttentionEmbedding(nn.Module):
    """Embedding-I, Eq. 3-4: cross-attention of image positions over [image positions; f_a].

    Q comes from the h*w positions, K and V from the same positions concatenated with the attribute
    token; all three are projected to ``embed_dim`` (d of Eq. 3) and split into ``num_heads`` heads,
    the result projected back to C. Then, as Eq. 3-4 write it:
    f_ca = Norm(Att + f), z1 = Norm(f_ca + f), f_e1 = Norm(z1 + FFN(z1)), Norm being LayerNorm over C.
    The "+ Q" of Eq. 3 is taken in C space, i.e. with the image tokens the query is computed from.
    """

    def __init__(self, channels: int, embed_dim: int, num_heads: int, ffn_dim: int):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(
                f"MODEL.PAE.EMBED_DIM={embed_dim} must be divisible by MODEL.PAE.NUM_HEADS={num_heads}"
            )
        self.num_heads = num_heads
        self.q_proj = nn.Linear(channels, embed_dim)
        self.kv_proj = nn.Linear(channels, 2 * embed_dim)
        self.out_proj = nn.Linear(embed_dim, channels)
        self.norm_ca = nn.LayerNorm(channels)
        self.norm_z1 = nn.LayerNorm(channels)
        self.norm_e1 = nn.LayerNorm(channels)
        self.ffn = nn.Sequential(nn.Linear(channels, ffn_dim), nn.GELU(), nn.Linear(ffn_dim, channels))

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        b, length, dim = x.shape
        return x.view(b, length, self.num_heads, dim // self.num_heads).transpose(1, 2)

    def forward(self, tokens: torch.Tensor, attr_token: torch.Tensor) -> torch.Tensor:
        """tokens: (B, L, C) image positions, L = h*w; attr_token: (B, 1, C) f_a.
        Returns f_e1: (B, L, C)."""
        # K, V of [tokens; attr_token], projected before concatenating (the same values, on d < C dims).
        kv = torch.cat([self.kv_proj(tokens), self.kv_proj(attr_token)], dim=1)
        q = self._split_heads(self.q_proj(tokens))
        k, v = (self._split_heads(t) for t in kv.chunk(2, dim=-1))
        att = F.scaled_dot_product_attention(q, k, v)  # softmax(QK^T / sqrt(d)) V, per head
        att = self.out_proj(att.transpose(1, 2).flatten(2))
        f_ca = self.norm_ca(att + tokens)
        z1 = self.norm_z1(f_ca + tokens)
        return self.norm_e1(z1 + self.ffn(z1))


class AttributeGuidedSpatialAttention(nn.Module):
    """Embedding-II, Eq. 5: f_ST = conv(p1(x) * p2(f_a)); f_e2 = x * softmax(f_ST) over positions.

    p1 is a 1x1 conv C -> d on the map, p2 a linear C -> d on f_a repeated at every position, conv a
    1x1 conv d -> 1; the 1x1 convs are applied as linear maps on the (B, h*w, C) tokens, the layout
    Embedding-I works in. The product is taken before the conv, so the attribute term rescales each
    of the d position-dependent channels and the logit at a position is
    sum_k c_k p1_k(x)[pos] p2_k(f_a): it depends on the position and the attributes jointly (an
    attribute term added to, or constant across, the positions would cancel in the spatial softmax).
    The softmax map is scaled by h*w so that a uniform map leaves x unchanged (Eq. 5 up to this
    constant), which keeps f_e2 on the scale of x.
    """

    def __init__(self, channels: int, embed_dim: int):
        super().__init__()
        self.p1 = nn.Linear(channels, embed_dim)
        self.p2 = nn.Linear(channels, embed_dim)
        self.conv = nn.Linear(embed_dim, 1)

    def forward(self, tokens: torch.Tensor, f_a: torch.Tensor):
        """tokens: (B, L, C) f_e1 at the L = h*w positions; f_a: (B, C).
        Returns f_e2: (B, L, C) and the attention: (B, L), summing to 1 over positions."""
        f_st = self.conv(self.p1(tokens) * self.p2(f_a)[:, None])[..., 0]
        attention = f_st.softmax(dim=1)
        return tokens * (attention * tokens.shape[1])[..., None], attention


class AttributeChannelGates(nn.Module):
    """Embedding-III, Eq. 6: w_i = sigmoid(fc_i([f_a, pooled x])), one C-dim gate per attribute.

    The n layers fc_i (2C -> C each) read the same input, so they are stored as one linear 2C -> n*C
    (n*2*C*C weights: 67M for C = 2048, n = 8). With ``gate_dim`` r > 0, a cheaper variant: one shared
    linear 2C -> r + ReLU, then the n layers fc_i: r -> C (the squeeze of squeeze-and-excitation).
    """

    def __init__(self, channels: int, num_attributes: int, gate_dim: int = 0):
        super().__init__()
        self.num_attributes = num_attributes
        if gate_dim > 0:
            self.reduce = nn.Sequential(nn.Linear(2 * channels, gate_dim), nn.ReLU(inplace=True))
            self.fc = nn.Linear(gate_dim, num_attributes * channels)
        else:
            self.reduce = nn.Identity()
            self.fc = nn.Linear(2 * channels, num_attributes * channels)

    def forward(self, pooled: torch.Tensor, f_a: torch.Tensor) -> torch.Tensor:
        """pooled: (B, C) spatial mean of f_e2; f_a: (B, C). Returns the gates w: (B, n, C) in (0, 1)."""
        gates = self.fc(self.reduce(torch.cat([f_a, pooled], dim=1))).sigmoid()
        return gates.view(pooled.shape[0], self.num_attributes, -1)


@dataclass
class PAEOutput:
    """The n fused maps F_i = gates[:, i] * source (Eq. 7), kept factored: the maps are channel-wise
    scalings of one map, so their spatial means and their average are computed without building them.

    source: (B, C, h, w); gates: (B, n, C); attention: (B, 1, h, w) Embedding-II map, or None.
    """

    source: torch.Tensor
    gates: torch.Tensor
    attention: Optional[torch.Tensor] = None

    def fused_maps(self) -> torch.Tensor:
        """(B, n, C, h, w): F_1..F_n of Eq. 7."""
        return self.gates[..., None, None] * self.source[:, None]

    def pooled(self) -> torch.Tensor:
        """(B, n, C): global average pooling of each F_i (exact: pooling is linear, gates constant)."""
        return self.gates * self.source.mean(dim=(2, 3))[:, None]

    def mean_map(self) -> torch.Tensor:
        """(B, C, h, w): (1/n) sum_i F_i, the argument of Eq. 10."""
        return self.gates.mean(dim=1)[..., None, None] * self.source


class PAE(nn.Module):
    """Progressive attribute embedding: the enabled embeddings of Eq. 3-7 in cascade.

    The attributes A (B, n) are first projected to f_a (B, C) by one linear layer (Sec. 3.2: "project
    them into a 2048-dimensional vector"), shared by the embeddings. Each enabled embedding reads the
    map the previous one produced (the backbone map F for the first). With Embedding-III, the gates are
    computed from the last map and applied to F, as the text of Eq. 7 says ("multiply the weights w and
    feature map F"). Without it (ablations, Table 5), the n fused maps are n identical copies of the last
    map (gates of ones).

    Args:
        channels: C of the feature map.
        num_attributes: n.
        embeddings: the embeddings to run, a subset of (1, 2, 3).
        embed_dim: d of Eq. 3 (attention) and of p1/p2 in Eq. 5; 0 = C, the paper's choice.
        num_heads: attention heads of Embedding-I.
        ffn_dim: hidden size of the FFN of Eq. 4; 0 = C.
        gate_dim: 0 = the n FCs 2C -> C of Eq. 6; r > 0 = squeezed through a shared 2C -> r FC.
    """

    def __init__(
        self,
        channels: int,
        num_attributes: int,
        embeddings: Sequence[int] = (1, 2, 3),
        embed_dim: int = 0,
        num_heads: int = 1,
        ffn_dim: int = 0,
        gate_dim: int = 0,
    ):
        super().__init__()
        embeddings = tuple(sorted(set(embeddings)))
        if not embeddings or not set(embeddings) <= {1, 2, 3}:
            raise ValueError(
                f"MODEL.PAE.EMBEDDINGS must be a non-empty subset of (1, 2, 3), got {embeddings}; "
                "set MODEL.PAE.ENABLED False to drop PAE"
            )
        self.num_attributes = num_attributes
        self.attr_proj = nn.Linear(num_attributes, channels)
        embed_dim, ffn_dim = embed_dim or channels, ffn_dim or channels
        self.emb1 = CrossAttentionEmbedding(channels, embed_dim, num_heads, ffn_dim) if 1 in embeddings else None
        self.emb2 = AttributeGuidedSpatialAttention(channels, embed_dim) if 2 in embeddings else None
        self.emb3 = AttributeChannelGates(channels, num_attributes, gate_dim) if 3 in embeddings else None

    def forward(self, feat_map: torch.Tensor, attributes: torch.Tensor) -> PAEOutput:
        """feat_map: (B, C, h, w) backbone map F; attributes: (B, n) float in [0, 1]."""
        if attributes.shape[1] != self.num_attributes:
            raise ValueError(
                f"PAE expects {self.num_attributes} attributes (MODEL.HEADS.NUM_ATTRIBUTES), "
                f"got a tensor of shape {tuple(attributes.shape)}"
            )
        b, c, h, w = feat_map.shape
        f_a = self.attr_proj(attributes.to(feat_map.dtype))
        tokens, attention = feat_map.flatten(2).transpose(1, 2), None
        if self.emb1 is not None:
            tokens = self.emb1(tokens, f_a[:, None])
        if self.emb2 is not None:
            tokens, attention = self.emb2(tokens, f_a)
            attention = attention.view(b, 1, h, w)
        if self.emb3 is None:
            source = tokens.transpose(1, 2).reshape(b, c, h, w)
            return PAEOutput(source=source, gates=source.new_ones(b, self.num_attributes, c), attention=attention)
        gates = self.emb3(tokens.mean(dim=1), f_a)
        return PAEOutput(source=feat_map, gates=gates, attention=attention)
