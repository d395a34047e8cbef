import pytest
import torch
import torch.nn.functional as F
from torch import nn

import fastreid_ext  # noqa: F401
from paenet.pae import (
    PAE,
    AttributeChannelGates,
    AttributeGuidedSpatialAttention,
    CrossAttentionEmbedding,
    PAEOutput,
)

C, N_ATTR, H, W = 8, 3, 4, 2


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _attrs():
    a = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    return a, 1.0 - a


def test_embedding1_matches_eq3_eq4_with_torch_attention():
    emb = CrossAttentionEmbedding(C, embed_dim=C, num_heads=2, ffn_dim=16).eval()
    tokens, attr_token = torch.randn(2, H * W, C), torch.randn(2, 1, C)
    mha = nn.MultiheadAttention(C, num_heads=2, batch_first=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([emb.q_proj.weight, emb.kv_proj.weight]))
        mha.in_proj_bias.copy_(torch.cat([emb.q_proj.bias, emb.kv_proj.bias]))
        mha.out_proj.load_state_dict(emb.out_proj.state_dict())
    context = torch.cat([tokens, attr_token], dim=1)
    att, _ = mha(tokens, context, context)

    def norm(x):  # the LayerNorms start as identity affine maps
        return F.layer_norm(x, (C,))

    f_ca = norm(att + tokens)
    z1 = norm(f_ca + tokens)
    expected = norm(z1 + emb.ffn(z1))
    torch.testing.assert_close(emb(tokens, attr_token), expected, rtol=1e-5, atol=1e-5)


def test_embedding1_output_depends_on_attribute_token():
    emb = CrossAttentionEmbedding(C, embed_dim=4, num_heads=1, ffn_dim=16)
    tokens = torch.randn(2, H * W, C)
    out1, out2 = emb(tokens, torch.randn(2, 1, C)), emb(tokens, torch.randn(2, 1, C))
    assert out1.shape == (2, H * W, C)
    assert (out1 - out2).abs().amin(dim=-1).gt(0).all()  # every position is affected


def test_embedding2_map_is_a_product_of_position_and_attribute_terms():
    emb = AttributeGuidedSpatialAttention(C, embed_dim=4)
    x, f_a = torch.randn(2, H * W, C), torch.randn(2, C)
    f_e2, attention = emb(x, f_a)
    p1 = torch.einsum("kc,blc->blk", emb.p1.weight, x) + emb.p1.bias
    p2 = torch.einsum("kc,bc->bk", emb.p2.weight, f_a) + emb.p2.bias
    logits = torch.einsum("k,blk->bl", emb.conv.weight[0], p1 * p2[:, None]) + emb.conv.bias
    expected = logits.softmax(dim=1)
    torch.testing.assert_close(attention, expected)
    torch.testing.assert_close(f_e2, x * expected[..., None] * (H * W))


def test_embedding2_attribute_effect_varies_over_positions():
    emb = AttributeGuidedSpatialAttention(C, embed_dim=4)
    x = torch.randn(2, H * W, C)
    f_e2_a, att_a = emb(x, torch.randn(2, C))
    f_e2_b, att_b = emb(x, torch.randn(2, C))
    assert not torch.allclose(f_e2_a, f_e2_b)
    # The map varies with the position ...
    assert att_a.std(dim=1).gt(1e-3).all()
    # ... and the attributes change it differently at different positions: an attribute term constant
    # over positions would shift every log-weight equally and cancel in the softmax.
    log_ratio = att_a.log() - att_b.log()
    assert log_ratio.std(dim=1).gt(1e-3).all()


@pytest.mark.parametrize("gate_dim", [0, 5])
def test_embedding3_gives_distinct_attribute_dependent_gates(gate_dim):
    emb = AttributeChannelGates(C, N_ATTR, gate_dim=gate_dim)
    pooled = torch.randn(2, C)
    gates_a, gates_b = emb(pooled, torch.randn(2, C)), emb(pooled, torch.randn(2, C))
    assert gates_a.shape == (2, N_ATTR, C)
    assert ((gates_a > 0) & (gates_a < 1)).all()
    assert not torch.allclose(gates_a, gates_b)
    for i in range(N_ATTR):
        for j in range(i + 1, N_ATTR):
            assert not torch.allclose(gates_a[:, i], gates_a[:, j])


def test_pae_output_factored_maps_hand_computed():
    source = torch.tensor([[[[1.0, 3.0]], [[2.0, 4.0]]]])  # (1, C=2, h=1, w=2)
    gates = torch.tensor([[[0.5, 1.0], [1.0, 0.25]]])  # (1, n=2, C=2)
    out = PAEOutput(source=source, gates=gates)
    expected_maps = torch.tensor([[[[[0.5, 1.5]], [[2.0, 4.0]]], [[[1.0, 3.0]], [[0.5, 1.0]]]]])
    torch.testing.assert_close(out.fused_maps(), expected_maps)
    torch.testing.assert_close(out.pooled(), torch.tensor([[[1.0, 3.0], [2.0, 0.75]]]))
    torch.testing.assert_close(out.mean_map(), torch.tensor([[[[0.75, 2.25]], [[1.25, 2.5]]]]))
    torch.testing.assert_close(out.pooled(), out.fused_maps().mean(dim=(3, 4)))
    torch.testing.assert_close(out.mean_map(), out.fused_maps().mean(dim=1))


def test_pae_cascade_gives_n_distinct_attribute_dependent_maps():
    pae = PAE(C, N_ATTR, embeddings=(1, 2, 3), embed_dim=4, num_heads=2, ffn_dim=16, gate_dim=5)
    feat_map = torch.rand(2, C, H, W)
    a, b = _attrs()
    out_a, out_b = pae(feat_map, a), pae(feat_map, b)
    maps = out_a.fused_maps()
    assert maps.shape == (2, N_ATTR, C, H, W)
    assert out_a.attention.shape == (2, 1, H, W)
    torch.testing.assert_close(out_a.source, feat_map)  # Eq. 7 scales the backbone map F
    assert not torch.allclose(maps, out_b.fused_maps())
    for i in range(N_ATTR):
        for j in range(i + 1, N_ATTR):
            assert not torch.allclose(maps[:, i], maps[:, j])


@pytest.mark.parametrize("embeddings", [(1,), (2,), (1, 2), (3,)])
def test_pae_ablations_depend_on_attributes(embeddings):
    pae = PAE(C, N_ATTR, embeddings=embeddings, embed_dim=4, num_heads=1, ffn_dim=16)
    feat_map = torch.rand(2, C, H, W)
    a, b = _attrs()
    out_a, out_b = pae(feat_map, a), pae(feat_map, b)
    assert not torch.allclose(out_a.mean_map(), out_b.mean_map())
    if 3 not in embeddings:  # n identical copies of the last embedding's map
        torch.testing.assert_close(out_a.gates, torch.ones(2, N_ATTR, C))
    assert (out_a.attention is None) == (2 not in embeddings)


@pytest.mark.parametrize("embeddings", [(), (4,), (0, 1)])
def test_pae_rejects_bad_embeddings(embeddings):
    with pytest.raises(ValueError, match="MODEL.PAE.EMBEDDINGS"):
        PAE(C, N_ATTR, embeddings=embeddings)


def test_pae_rejects_wrong_attribute_count():
    pae = PAE(C, N_ATTR, embeddings=(3,))
    with pytest.raises(ValueError, match="MODEL.HEADS.NUM_ATTRIBUTES"):
        pae(torch.rand(2, C, H, W), torch.ones(2, N_ATTR + 1))


def test_embed_dim_must_split_into_heads():
    with pytest.raises(ValueError, match="MODEL.PAE.NUM_HEADS"):
        CrossAttentionEmbedding(C, embed_dim=6, num_heads=4, ffn_dim=8)


def test_pae_embedding2_map_keeps_the_spatial_layout():
    pae = PAE(C, N_ATTR, embeddings=(2,), embed_dim=4)
    feat_map = torch.rand(2, C, H, W)
    a, _ = _attrs()
    out = pae(feat_map, a)
    # Position (y, x) of the map is token y*W + x: the spatial weight scales F at that position.
    torch.testing.assert_close(out.source, feat_map * out.attention * (H * W))
    _, attention = pae.emb2(feat_map.flatten(2).transpose(1, 2), pae.attr_proj(a))
    torch.testing.assert_close(out.attention[:, 0, 1, 0], attention[:, W])
