import importlib
import pkgutil

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
    import torch
    import fastreid.data.build as build

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
