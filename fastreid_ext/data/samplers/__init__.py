"""Training samplers, selected by name (``DATALOADER.SAMPLER_TRAIN``) from :data:`SAMPLER_REGISTRY`.

Every entry is called as ``cls(data_source, mini_batch_size, num_instances, seed=...)``.
"""
from fastreid.data.samplers import NaiveIdentitySampler
from fastreid.utils.registry import Registry

SAMPLER_REGISTRY = Registry("SAMPLER")
SAMPLER_REGISTRY.register(NaiveIdentitySampler)

from .cm_sampler import CrossModalityIdentitySampler  # noqa: E402  (registers itself)
from .epoch_length import EPOCH_LENGTHS, iterations_per_epoch  # noqa: E402
from .seeded_batch import SeededBatchSampler  # noqa: E402

__all__ = ["EPOCH_LENGTHS", "SAMPLER_REGISTRY", "CrossModalityIdentitySampler", "SeededBatchSampler",
           "iterations_per_epoch"]
