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


def cfg(depth="18x", with_ibn=False):
    cfg = get_cfg()
    cfg.MODEL.BACKBONE.WITH_IBN = with_ibn
    cfg.MODEL.BACKBONE.NAME = "build_dual_stream_resnet_backbone"
    cfg.MODEL.BACKBONE.DEPTH = depth
    cfg.MODEL.BACKBONE.PRETRAIN = True
    cfg.MODEL.BACKBONE.PRETRAIN_PATH = ""
    return cfg


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)  # a hub dir set earlier in the process would win

    def offline(*args):
        raise urllib.error.URLError("no network in tests")
    monkeypatch.setattr(pretrained, "_download", offline)
    monkeypatch.setattr(pretrained, "_download_url", offline)
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


def test_ibn_weights_are_ibn_nets_own_file(torch_home):
    directory = torch_home / "hub" / "checkpoints"
    os.makedirs(directory)
    torch.save(torchvision.models.resnet50(weights=None).state_dict(), directory / "resnet50-0676ba61.pth")
    # the plain ResNet's file is not taken for the IBN-a network
    with pytest.raises(FileNotFoundError) as err:
        build_backbone(cfg("50x", with_ibn=True))
    url = "https://github.com/XingangPan/IBN-Net/releases/download/v1.0/resnet50_ibn_a-d9d0bb7b.pth"
    assert f"Place {url} at {directory / 'resnet50_ibn_a-d9d0bb7b.pth'}" in str(err.value)
    ibn = directory / "resnet50_ibn_a-d9d0bb7b.pth"
    ibn.write_bytes(b"")
    assert pretrained.hub_checkpoint("50x", with_ibn=True) == str(ibn)
    assert pretrained.hub_checkpoint("50x") == str(directory / "resnet50-0676ba61.pth")


def test_depth_without_ibn_weights_is_an_error(torch_home):
    with pytest.raises(ValueError, match="WITH_IBN.*DEPTH '200x'.*set MODEL.BACKBONE.PRETRAIN_PATH"):
        pretrained.hub_checkpoint("200x", with_ibn=True)


def test_ibn_weights_load_into_the_ibn_network(torch_home):
    single = cfg("18x", with_ibn=True)
    single.MODEL.BACKBONE.NAME, single.MODEL.BACKBONE.PRETRAIN = "build_resnet_backbone", False
    state = build_backbone(single).state_dict()  # IBN-Net's key layout (bn1.IN / bn1.BN in layer1-3)
    directory = torch_home / "hub" / "checkpoints"
    os.makedirs(directory)
    torch.save(state, directory / "resnet18_ibn_a-2f571257.pth")
    model = build_backbone(cfg("18x", with_ibn=True))
    assert torch.equal(model.shared.layer1[0].bn1.IN.weight, state["layer1.0.bn1.IN.weight"])
    assert torch.equal(model.visible.conv1.weight, state["conv1.weight"])
