import math

import torch

import fastreid_ext  # noqa: F401
from paenet.aal import AttributeAuxiliaryLearning, identity_weights, sigmoid_bn2d
from paenet.pae import PAEOutput


def test_aal_hand_computed_logits():
    aal = AttributeAuxiliaryLearning(channels=2, num_attributes=2, feat_dim=1).eval()
    with torch.no_grad():
        aal.fc.weight.copy_(torch.tensor([[[1.0], [0.0]], [[0.0], [1.0]]]))  # FC_1 reads ch 0, FC_2 ch 1
        aal.classifier.weight.copy_(torch.tensor([[[1.0]], [[-2.0]]]))
        aal.classifier.bias.copy_(torch.tensor([0.5, 0.0]))
    pooled_fused = torch.tensor([[[0.0, 0.0], [0.0, math.log(3.0)]]])  # W1 = [[.5, .5], [.5, .75]]
    pooled_feat = torch.tensor([[2.0, 4.0]])
    bn = 1 / math.sqrt(1 + 1e-5)  # BatchNorm in eval with its initial statistics
    expected = torch.tensor([[0.5 * 2.0 * bn + 0.5, -2.0 * 0.75 * 4.0 * bn]])
    torch.testing.assert_close(aal(pooled_fused, pooled_feat), expected)


def test_aal_gives_one_logit_per_attribute():
    aal = AttributeAuxiliaryLearning(channels=8, num_attributes=5, feat_dim=4)
    logits = aal(torch.randn(3, 5, 8), torch.rand(3, 8))
    assert logits.shape == (3, 5)


def test_identity_weights_hand_computed():
    source = torch.tensor([[[[1.0, 3.0]], [[2.0, 4.0]]]])
    gates = torch.tensor([[[0.5, 1.0], [1.0, 0.25]]])  # mean gates [0.75, 0.625]
    w2 = identity_weights(PAEOutput(source=source, gates=gates))
    assert w2.shape == source.shape
    torch.testing.assert_close(w2, torch.tensor([[[[0.75, 2.25]], [[1.25, 2.5]]]]).sigmoid())


def test_sigmoid_bn_lets_the_gates_close():
    # F >= 0 and gates in (0, 1): without the BN, W2 = sigmoid(mean F_i) >= 0.5; with it (the released
    # code's Region.bn, training mode), below-average positions get W2 < 0.5.
    torch.manual_seed(0)
    out = PAEOutput(source=torch.rand(4, 6, 3, 2), gates=torch.rand(4, 2, 6))
    assert identity_weights(out).min() >= 0.5
    w2 = identity_weights(out, sigmoid_bn2d(6).train())
    assert w2.min() < 0.5 < w2.max()
    aal = AttributeAuxiliaryLearning(6, 2, feat_dim=4, sigmoid_bn=True)
    assert not aal.w1_norm.bias.requires_grad  # no shift, as the released code's
    assert aal(out.pooled(), torch.rand(4, 6)).shape == (4, 2)
