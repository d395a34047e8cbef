"""Seeding: one seed per (run seed, epoch, rank), so a run resumed at an epoch boundary repeats exactly."""
import random

import numpy as np
import torch


def derive_seed(*keys: int) -> int:
    """A 32-bit seed that is a deterministic function of integer ``keys``."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0])


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed python, numpy and torch; optionally make torch pick deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
