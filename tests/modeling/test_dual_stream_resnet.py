import pytest
import torch
import torchvision
from fastreid.modeling.backbones import build_backbone
from fastreid.modeling.backbones.resnet import BasicBlock, Bottleneck, ResNet

import fastreid_ext  # noqa: F401  (first: patches FastReID before it is imported)
import fastreid_ext.modeling  # noqa: F401
from fastreid_ext.config import get_cfg
from fastreid_ext.modeling.backbones import DualStreamResNet


def resnet18():
    return ResNet(1, "BN", False, False, False, BasicBlock, [2, 2, 2, 2], [0, 0, 0, 0])


def tiny_bottleneck_resnet_with_nl():
    # One bottleneck block per stage, a non-local block after layer2's and layer3's (AGW's places).
    return ResNet(1, "BN", False, False, True, Bottleneck, [1, 1, 1, 1], [0, 1, 1, 0])


def images(n, seed=0):
    return torch.randn(n, 3, 64, 32, generator=torch.Generator().manual_seed(seed))


def cfg_18(**backbone):
    cfg = get_cfg()
    cfg.MODEL.BACKBONE.NAME = "build_dual_stream_resnet_backbone"
    cfg.MODEL.BACKBONE.DEPTH = "18x"
    for key, value in backbone.items():
        cfg.MODEL.BACKBONE[key] = value
    return cfg


def test_each_image_goes_through_its_own_stem_only():
    torch.manual_seed(0)
    model = DualStreamResNet(resnet18).eval()
    x, modalities = images(5), torch.tensor([1, 0, 0, 1, 0])
    with torch.no_grad():
        before = model(x, modalities)
        model.infrared.conv1.weight.add_(0.5)
        after = model(x, modalities)
    visible, infrared = modalities == 0, modalities == 1
    assert torch.equal(before[visible], after[visible])
    assert not torch.isclose(before[infrared], after[infrared]).all(dim=(1, 2, 3)).any()
    with torch.no_grad():
        model.visible.bn1.bias.add_(1.0)
        again = model(x, modalities)
    assert torch.equal(again[infrared], after[infrared])
    assert not torch.isclose(again[visible], after[visible]).all(dim=(1, 2, 3)).any()


def test_outputs_come_back_in_batch_order():
    torch.manual_seed(0)
    model = DualStreamResNet(resnet18).eval()
    x, modalities = images(5), torch.tensor([1, 0, 0, 1, 0])
    with torch.no_grad():
        out = model(x, modalities)
        for i, m in enumerate(modalities.tolist()):
            stream = model.infrared if m else model.visible
            single = model.shared(stream(x[i:i + 1]))
            assert torch.allclose(out[i:i + 1], single, atol=1e-5)
    assert out.shape == (5, 512, 4, 2)  # stride 16 with last stride 1


def test_gradients_reach_both_stems_and_one_modality_batches_work():
    torch.manual_seed(0)
    model = DualStreamResNet(resnet18).train()
    model(images(4), torch.tensor([0, 1, 1, 0])).pow(2).mean().backward()
    for part in (model.visible, model.infrared, model.shared):
        grad = next(part.parameters()).grad
        assert grad is not None and grad.abs().sum() > 0
    model.zero_grad(set_to_none=True)
    out = model(images(3), torch.tensor([1, 1, 1]))
    out.mean().backward()
    assert out.shape == (3, 512, 4, 2)
    assert model.visible.conv1.weight.grad is None
    assert model.infrared.conv1.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("shared_from,specific", [
    ("layer1", ["conv1", "bn1"]),
    ("layer2", ["conv1", "bn1", "layer1"]),
    ("layer3", ["conv1", "bn1", "layer1", "layer2"]),
    ("layer4", ["conv1", "bn1", "layer1", "layer2", "layer3"]),
])
def test_shared_from_splits_the_stages(shared_from, specific):
    model = build_backbone(cfg_18(SHARED_FROM=shared_from))
    heads = lambda part: sorted({name.split(".")[0] for name, _ in part.named_parameters()})  # noqa: E731
    assert heads(model.visible) == heads(model.infrared) == sorted(specific)
    assert heads(model.shared) == [f"layer{k}" for k in range(int(shared_from[-1]), 5)]
    assert model(images(2), torch.tensor([0, 1])).shape == (2, 512, 4, 2)


def test_non_local_blocks_follow_their_stage():
    model = DualStreamResNet(tiny_bottleneck_resnet_with_nl, shared_from="layer3")
    assert hasattr(model.visible, "NL_2") and hasattr(model.infrared, "NL_2")
    assert hasattr(model.shared, "NL_3") and not hasattr(model.shared, "NL_2")
    assert model.eval()(images(2), torch.tensor([0, 1])).shape == (2, 2048, 4, 2)


def test_invalid_settings_and_inputs_are_errors():
    with pytest.raises(ValueError, match="MODEL.BACKBONE.SHARED_FROM"):
        DualStreamResNet(resnet18, shared_from="stem")
    model = DualStreamResNet(resnet18)
    with pytest.raises(ValueError, match="0 \\(visible\\) or 1 \\(infrared\\).*2"):
        model(images(2), torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="shape"):
        model(images(2), torch.tensor([0, 1, 1]))
    with pytest.raises(FileNotFoundError, match="MODEL.BACKBONE.PRETRAIN_PATH.*nowhere.pth"):
        build_backbone(cfg_18(PRETRAIN=True, PRETRAIN_PATH="nowhere.pth"))


def test_torchvision_weights_load_strictly_into_both_streams(tmp_path):
    state = torchvision.models.resnet18(weights=None).state_dict()  # has fc.* and num_batches_tracked
    path = tmp_path / "resnet18-local.pth"
    torch.save(state, path)
    model = build_backbone(cfg_18(PRETRAIN=True, PRETRAIN_PATH=str(path), SHARED_FROM="layer2"))
    for stream in (model.visible, model.infrared):
        assert torch.equal(stream.conv1.weight, state["conv1.weight"])
        assert torch.equal(stream.layer1[1].bn2.running_var, state["layer1.1.bn2.running_var"])
    assert torch.equal(model.shared.layer4[0].downsample[0].weight, state["layer4.0.downsample.0.weight"])

    state["layer1.0.convX.weight"] = state.pop("layer1.0.conv1.weight")
    torch.save(state, path)
    with pytest.raises(KeyError, match="missing keys \\['layer1.0.conv1.weight'\\].*'layer1.0.convX.weight'"):
        build_backbone(cfg_18(PRETRAIN=True, PRETRAIN_PATH=str(path)))


def test_fastreid_checkpoint_backbone_entries_load(tmp_path):
    source = resnet18()
    checkpoint = {"model": {**{"backbone." + k: v for k, v in source.state_dict().items()},
                            "heads.weight": torch.zeros(3, 512)}, "iteration": 10}
    torch.save(checkpoint, tmp_path / "model_final.pth")
    model = DualStreamResNet(resnet18)
    model.load_pretrained(str(tmp_path / "model_final.pth"))
    assert torch.equal(model.infrared.conv1.weight, source.conv1.weight)
    assert torch.equal(model.shared.layer3[1].conv2.weight, source.layer3[1].conv2.weight)


def test_non_local_blocks_may_be_absent_from_plain_resnet_weights_only(tmp_path):
    plain = ResNet(1, "BN", False, False, False, Bottleneck, [1, 1, 1, 1], [0, 0, 0, 0]).state_dict()
    torch.save(plain, tmp_path / "plain.pth")
    model = DualStreamResNet(tiny_bottleneck_resnet_with_nl)
    model.load_pretrained(str(tmp_path / "plain.pth"))  # NL blocks stay new, as in AGW
    assert torch.equal(model.shared.layer2[0].conv1.weight, plain["layer2.0.conv1.weight"])

    partial = tiny_bottleneck_resnet_with_nl().state_dict()
    del partial["NL_3.0.g.weight"]
    torch.save(partial, tmp_path / "partial.pth")
    with pytest.raises(KeyError, match="NL_3.0.g.weight"):
        model.load_pretrained(str(tmp_path / "partial.pth"))
