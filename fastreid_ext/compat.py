"""The one place that patches around FastReID 1.4.0 on modern Python, PyTorch and CPU-only machines.

FastReID 1.4.0 targets Python <= 3.9 and torch 1.x with CUDA. Every patch here is small, applied
once by :func:`apply` (called from ``fastreid_ext/__init__.py`` before anything else imports
``fastreid``) and recorded in :data:`APPLIED`, so tests can check that it happened.

Import shims (FastReID does not import without them):

- ``collections_abc``: ``collections.Mapping`` & co. were removed in Python 3.10; FastReID's
  engine and evaluation import them from ``collections``.
- ``torch_six``: ``torch._six`` was removed in torch 2.0; FastReID's data package imports
  ``string_classes`` from it.

Runtime shims (FastReID assumes CUDA):

- ``cpu_dataloader``: ``fastreid.data.build.DataLoaderX`` creates a ``torch.cuda.Stream`` in its
  constructor; without CUDA it becomes a plain ``torch.utils.data.DataLoader`` (same arguments
  minus the leading ``local_rank``).
- ``gloo_launch``: ``fastreid.engine.launch._distributed_worker`` asserts CUDA and uses NCCL; the
  replacement uses NCCL with CUDA and gloo without, so ``--num-gpus N`` starts N CPU processes.
- ``cpu_ddp``: ``DefaultTrainer`` wraps the model in DDP with ``device_ids=[local_rank]``, which
  is invalid for a CPU model; the replacement drops ``device_ids`` when the model is on CPU.

Noise shims (a deprecation warning printed by every data-loader worker, every epoch):

- ``typed_storage``: FastReID's ``to_tensor`` reads PIL images through ``torch.ByteStorage.from_buffer``,
  deprecated since torch 2.0 (``TypedStorage is deprecated``); images go through its NumPy branch instead
  (the same tensor). ``fastreid.utils.comm``'s distributed serialiser makes the same call: exactly that
  warning is silenced around it.

Correctness shim:

- ``nonlocal_channels``: ``fastreid.layers.Non_local`` sets its inner width to
  ``reduc_ratio // reduc_ratio`` (always 1); the AGW non-local block it stands for uses
  ``in_channels // reduc_ratio``. The convolutions are rebuilt with that width.
"""
import collections
import collections.abc
import sys
import types
import warnings
from typing import Any

APPLIED = []


def _collections_abc():
    for name in ("Mapping", "MutableMapping", "Sequence", "Iterable"):
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))


def _torch_six():
    if "torch._six" not in sys.modules:
        import torch

        six = types.ModuleType("torch._six")
        six.string_classes = (str, bytes)
        six.inf = float("inf")
        sys.modules["torch._six"] = six
        torch._six = six


def _cpu_dataloader():
    import fastreid.data.build  # noqa: F401
    import torch

    build = sys.modules["fastreid.data.build"]
    if torch.cuda.is_available():
        return

    class CPUDataLoader(torch.utils.data.DataLoader):
        """``DataLoaderX(local_rank, **kwargs)`` without CUDA streams."""

        def __init__(self, local_rank, **kwargs):
            kwargs["pin_memory"] = False
            super().__init__(**kwargs)

    build.DataLoaderX = CPUDataLoader


def _distributed_worker(local_rank, main_func, world_size, num_gpus_per_machine, machine_rank,
                        dist_url, args):
    """FastReID's worker with the backend chosen by device: NCCL on CUDA, gloo on CPU."""
    import torch
    import torch.distributed as dist
    from fastreid.utils import comm

    use_cuda = torch.cuda.is_available()
    global_rank = machine_rank * num_gpus_per_machine + local_rank
    dist.init_process_group(backend="nccl" if use_cuda else "gloo", init_method=dist_url,
                            world_size=world_size, rank=global_rank)
    if use_cuda:
        if num_gpus_per_machine > torch.cuda.device_count():
            raise RuntimeError(f"--num-gpus {num_gpus_per_machine} but only "
                               f"{torch.cuda.device_count()} CUDA devices are visible")
        torch.cuda.set_device(local_rank)
    comm.synchronize()
    num_machines = world_size // num_gpus_per_machine
    for i in range(num_machines):
        group = dist.new_group(list(range(i * num_gpus_per_machine, (i + 1) * num_gpus_per_machine)))
        if i == machine_rank:
            comm._LOCAL_PROCESS_GROUP = group
    main_func(*args)


def _gloo_launch():
    import fastreid.engine.launch  # noqa: F401

    # ``fastreid.engine.launch`` the attribute is the function (``from .launch import *``): patch the module.
    sys.modules["fastreid.engine.launch"]._distributed_worker = _distributed_worker


def _cpu_ddp():
    import fastreid.engine.defaults  # noqa: F401
    from torch.nn.parallel import DistributedDataParallel

    defaults = sys.modules["fastreid.engine.defaults"]

    def ddp(model, device_ids=None, **kwargs):
        if next(model.parameters()).device.type == "cpu":
            device_ids = None
        return DistributedDataParallel(model, device_ids=device_ids, **kwargs)

    defaults.DistributedDataParallel = ddp


def _typed_storage():
    import numpy as np
    from fastreid.data.transforms import functional, transforms
    from fastreid.utils import comm
    from PIL import Image

    to_tensor = functional.to_tensor

    def pil_to_tensor(pic):
        # The modes FastReID reads with ByteStorage; np.array (a writable copy) gives the same bytes.
        if isinstance(pic, Image.Image) and pic.mode not in ("I", "I;16", "F", "1"):
            return to_tensor(np.array(pic)).contiguous()
        return to_tensor(pic)

    functional.to_tensor = transforms.to_tensor = pil_to_tensor
    serialize = comm._serialize_to_tensor

    def serialize_to_tensor(data, group):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="TypedStorage is deprecated", category=UserWarning)
            return serialize(data, group)

    comm._serialize_to_tensor = serialize_to_tensor


def set_nonlocal_width(block: Any, inter: int) -> None:
    """Rebuild a FastReID ``Non_local`` block's g, theta, phi (C -> inter) and W (inter -> C) convolutions."""
    from torch import nn

    channels = block.g.in_channels
    block.inter_channels = inter
    block.g, block.theta, block.phi = (nn.Conv2d(channels, inter, kernel_size=1) for _ in range(3))
    block.W[0] = nn.Conv2d(inter, channels, kernel_size=1)


def _nonlocal_channels():
    from fastreid.layers import non_local

    original = non_local.Non_local.__init__

    def __init__(self, in_channels, bn_norm, reduc_ratio=2):
        original(self, in_channels, bn_norm, reduc_ratio)
        inter = max(in_channels // reduc_ratio, 1)
        if self.inter_channels != inter:
            set_nonlocal_width(self, inter)

    non_local.Non_local.__init__ = __init__


_SHIMS = {
    "collections_abc": _collections_abc,
    "torch_six": _torch_six,
    "cpu_dataloader": _cpu_dataloader,
    "gloo_launch": _gloo_launch,
    "cpu_ddp": _cpu_ddp,
    "typed_storage": _typed_storage,
    "nonlocal_channels": _nonlocal_channels,
}


def apply() -> None:
    """Apply every shim once, in order. Safe to call repeatedly."""
    for name, fn in _SHIMS.items():
        if name not in APPLIED:
            fn()
            APPLIED.append(name)
