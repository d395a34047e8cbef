import importlib
import pkgutil
import warnings

import pytest

import fastreid_ext  # noqa: F401
from fastreid_ext import compat

# Scripts shipped inside the package, not modules: importing them runs a benchmark or setup().
_SCRIPTS = {"fastreid.evaluation.rank_cylib.setup", "fastreid.evaluation.rank_cylib.test_cython"}


def test_every_shim_is_applied():
    import sys

    assert compat.APPLIED == list(compat._SHIMS)
    assert sys.modules["fastreid.engine.launch"]._distributed_worker is compat._distributed_worker
    assert sys.modules["fastreid.engine.defaults"].DistributedDataParallel.__module__ == "fastreid_ext.compat"


def test_every_fastreid_module_imports():
    import fastreid

    failures = {}
    for info in pkgutil.walk_packages(fastreid.__path__, "fastreid."):
        if info.name in _SCRIPTS:
            continue
        try:
            importlib.import_module(info.name)
        except Exception as e:  # collect them all, report at once
            failures[info.name] = repr(e)
    assert not failures, failures


def test_cpu_dataloader_has_no_cuda_stream():
    import fastreid.data.build as build
    import torch

    if torch.cuda.is_available():
        return
    loader = build.DataLoaderX(0, dataset=list(range(4)), batch_size=2)
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3]]


def test_nonlocal_block_has_agw_width():
    import torch
    from fastreid.layers import Non_local

    block = Non_local(64, "BN")
    assert block.inter_channels == 32
    assert block.g.out_channels == block.theta.out_channels == block.phi.out_channels == 32
    assert block.W[0].in_channels == 32
    x = torch.randn(2, 64, 6, 3)
    assert torch.equal(block(x), x)  # W's BN starts at zero: the block starts as the identity



@pytest.fixture
def typed_storage_always_warns():
    """torch warns about TypedStorage once a process unless told otherwise: make it warn on every call."""
    import torch

    always = torch.storage._get_always_warn_typed_storage_removal()
    torch.storage._set_always_warn_typed_storage_removal(True)
    yield
    torch.storage._set_always_warn_typed_storage_removal(always)


def test_to_tensor_gives_fastreids_tensor_without_typed_storage_warning(typed_storage_always_warns):
    import numpy as np
    import torch
    from fastreid.data.transforms import ToTensor
    from PIL import Image

    pixels = np.random.default_rng(0).integers(0, 256, size=(5, 3, 3), dtype=np.uint8)
    for image in (Image.fromarray(pixels, "RGB"), Image.fromarray(pixels[..., 0], "L")):
        channels = len(image.mode)
        # FastReID's own conversion: bytes -> (H, W, C) -> (C, H, W) float.
        expected = torch.tensor(np.asarray(image).reshape(5, 3, channels).transpose(2, 0, 1), dtype=torch.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tensor = ToTensor()(image)
        assert tensor.dtype == torch.float32 and tensor.is_contiguous()
        assert torch.equal(tensor, expected)
