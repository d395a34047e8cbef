import numpy as np
import torch
from PIL import Image

from fastreid_ext.config import get_cfg
from fastreid_ext.data import read_image
from fastreid_ext.data.transforms import RandomChannelExchange, build_cm_transforms

RGB = (10, 100, 200)


def constant_image(value=RGB, size=(40, 20)):
    return Image.fromarray(np.full((*size, 3), value, np.uint8))


def test_paper_defaults():
    cfg = get_cfg()
    assert list(cfg.INPUT.SIZE_TRAIN) == [288, 144] and list(cfg.INPUT.SIZE_TEST) == [288, 144]
    assert cfg.INPUT.PADDING.ENABLED and cfg.INPUT.PADDING.SIZE == 10 and cfg.INPUT.FLIP.ENABLED
    assert not cfg.INPUT.REA.ENABLED and not cfg.INPUT.CHANNEL_AUG.ENABLED


def test_test_transform_resizes_to_0_255_float():
    out = build_cm_transforms(get_cfg(), is_train=False)(constant_image(), 0)
    assert out.shape == (3, 288, 144) and out.dtype == torch.float32
    assert [out[c].unique().tolist() for c in range(3)] == [[10.0], [100.0], [200.0]]


def test_train_transform_pads_with_zeros_and_crops():
    torch.manual_seed(0)
    transform = build_cm_transforms(get_cfg(), is_train=True)
    outs = [transform(constant_image((255, 255, 255)), 1) for _ in range(8)]
    assert all(o.shape == (3, 288, 144) for o in outs)
    assert all(set(o.unique().tolist()) <= {0.0, 255.0} for o in outs)
    assert any((o == 0).any() for o in outs)  # some crops take zero padding in


def test_infrared_is_read_as_three_channels(tmp_path, trees):
    path = trees.write_image(str(tmp_path / "ir.jpg"), value=(77, 0, 0), gray=True)
    image = read_image(path)
    assert image.mode == "RGB" and np.asarray(image).shape == (8, 4, 3)
    assert (np.asarray(image) == 77).all()


def test_channel_augmentation_touches_visible_images_only():
    cfg = get_cfg()
    cfg.INPUT.CHANNEL_AUG.ENABLED = True
    cfg.INPUT.CHANNEL_AUG.EXCHANGE_PROB = 1.0
    cfg.INPUT.PADDING.ENABLED = False
    cfg.INPUT.FLIP.ENABLED = False
    transform = build_cm_transforms(cfg, is_train=True)
    torch.manual_seed(0)
    seen = set()
    for _ in range(20):
        visible = transform(constant_image(), 0)
        assert visible[0].equal(visible[1]) and visible[1].equal(visible[2])
        seen.add(visible[0, 0, 0].item())
        infrared_labelled = transform(constant_image(), 1)
        assert [infrared_labelled[c, 0, 0].item() for c in range(3)] == [10.0, 100.0, 200.0]
    assert seen == {10.0, 100.0, 200.0}
    assert build_cm_transforms(cfg, is_train=False).visible is None


def test_grayscale_option():
    cfg = get_cfg()
    cfg.INPUT.CHANNEL_AUG.ENABLED = True
    cfg.INPUT.CHANNEL_AUG.EXCHANGE_PROB = 0.0
    cfg.INPUT.CHANNEL_AUG.GRAY_PROB = 1.0
    cfg.INPUT.PADDING.ENABLED = False
    out = build_cm_transforms(cfg, is_train=True)(constant_image(), 0)
    expected = 0.2989 * 10 + 0.587 * 100 + 0.114 * 200
    assert torch.allclose(out, torch.full_like(out, expected), atol=1e-3)


def test_random_erasing_comes_after_channel_augmentation():
    cfg = get_cfg()
    cfg.INPUT.REA.ENABLED = True
    cfg.INPUT.REA.PROB = 1.0
    cfg.INPUT.CHANNEL_AUG.ENABLED = True
    transform = build_cm_transforms(cfg, is_train=True)
    assert type(transform.post.transforms[-1]).__name__ == "RandomErasing"
    assert isinstance(transform.visible.transforms[0], RandomChannelExchange)
    torch.manual_seed(0)
    out = transform(constant_image((255, 255, 255)), 0)
    erased = torch.tensor(cfg.INPUT.REA.VALUE).view(3, 1, 1).expand_as(out)
    assert (out == erased).all(dim=0).any()
