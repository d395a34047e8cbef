import os
import urllib.error

import pytest
import torch
import torchvision
from fastreid.modeling.backbones import build_backbone

import fastreid_ext  # noqa: F401  (first: patches FastReID before it is imported)
import fastreid_ext.modeling  # noqa: F401
from fastreid_ext.config import get_cfg
from fastreid_ext.modeling.backbones import pretrained


def cfg(depth="18x"):
    cfg = get_cfg()
    cfg.MODEL.BACKBONE.NAME = "build_dual_stream_resnet_backbone"
    cfg.MODEL.BACKBONE.DEPTH = depth
    cfg.MODEL.BACKBONE.PRETRAIN = True
    cfg.MODEL.BACKBONE.PRETRAIN_PATH = ""
    return cfg


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)  # a hub dir set earlier in the process would win

    def offline(weights):
        raise urllib.error.URLError("no network in tests")
    monkeypatch.setattr(pretrained, "_download", offline)
    return tmp_path


def test_weights_come_from_the_hub_cache(torch_home):
    state = torchvision.models.resnet18(weights=None).state_dict()
    os.makedirs(torch_home / "hub" / "checkpoints")
    path = torch_home / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    torch.save(state, path)
    assert pretrained.hub_checkpoint("18x") == str(path)
    model = build_backbone(cfg())
    for stream in (model.visible, model.infrared):
        assert torch.equal(stream.conv1.weight, state["conv1.weight"])
    assert torch.equal(model.shared.layer4[1].conv2.weight, state["layer4.1.conv2.weight"])

    # another release of the same network, under its own hash, is found too
    other = torch_home / "hub" / "checkpoints" / "resnet18-00000000.pth"
    path.rename(other)
    assert pretrained.hub_checkpoint("18x") == str(other)


def test_missing_file_names_the_file_and_where(torch_home):
    where = torch_home / "hub" / "checkpoints" / "resnet50-0676ba61.pth"
    with pytest.raises(FileNotFoundError) as err:
        build_backbone(cfg("50x"))
    message = str(err.value)
    assert "resnet50-0676ba61.pth is not in torch's hub cache" in message and "no network in tests" in message
    assert f"Place https://download.pytorch.org/models/resnet50-0676ba61.pth at {where}" in message
    assert "MODEL.BACKBONE.PRETRAIN_PATH" in message


def test_a_download_lands_in_the_cache(torch_home, monkeypatch):
    state = torchvision.models.resnet18(weights=None).state_dict()

    def download(weights):  # what torchvision's weights API does: write the file into the hub cache
        directory = torch_home / "hub" / "checkpoints"
        os.makedirs(directory, exist_ok=True)
        torch.save(state, directory / os.path.basename(weights.url))
    monkeypatch.setattr(pretrained, "_download", download)
    expected = torch_home / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert pretrained.hub_checkpoint("18x") == str(expected)


def test_depth_without_torchvision_weights_is_an_error(torch_home):
    with pytest.raises(ValueError, match="MODEL.BACKBONE.DEPTH '200x'.*set MODEL.BACKBONE.PRETRAIN_PATH"):
        pretrained.hub_checkpoint("200x")
