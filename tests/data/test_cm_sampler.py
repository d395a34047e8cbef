import itertools
import logging

import pytest

from fastreid_ext.data.samplers import SAMPLER_REGISTRY, CrossModalityIdentitySampler


def items(images_per_identity):
    """pid -> (visible count, infrared count) to (path, pid, camid, modality, None) items."""
    out = []
    for pid, (n_vis, n_ir) in images_per_identity.items():
        out += [(f"v{pid}_{k}", pid, 1, 0, None) for k in range(n_vis)]
        out += [(f"i{pid}_{k}", pid, 3, 1, None) for k in range(n_ir)]
    return out


# 10 identities; some have fewer than K=2 images of a modality; 98 and 99 lack one modality.
COUNTS = {pid: (1 + pid % 3, 1 + pid % 4) for pid in range(10)}
DATA = items({**COUNTS, 98: (3, 0), 99: (0, 2)})


def batches(sampler, n, batch_size):
    stream = iter(sampler)
    return [[next(stream) for _ in range(batch_size)] for _ in range(n)]


def test_batch_layout(caplog):
    with caplog.at_level(logging.WARNING):
        sampler = CrossModalityIdentitySampler(DATA, mini_batch_size=12, num_instances=2, seed=0)
    assert caplog.text.count("left out of training batches") == 1 and "98, 99" in caplog.text
    assert sampler.pids == list(range(10))
    for batch in batches(sampler, 12, 12):
        visible, infrared = [DATA[i] for i in batch[:6]], [DATA[i] for i in batch[6:]]
        assert all(item[3] == 0 for item in visible) and all(item[3] == 1 for item in infrared)
        pids = [item[1] for item in visible][::2]
        assert len(set(pids)) == 3
        assert [item[1] for item in visible] == [item[1] for item in infrared] == [p for p in pids for _ in range(2)]
        for pid in pids:  # without replacement when an identity has K or more images of a modality
            for block in (visible, infrared):
                paths = [item[0] for item in block if item[1] == pid]
                limit = COUNTS[pid][block[0][3]]
                assert len(set(paths)) == min(2, limit)


def test_same_seed_same_batches_other_seed_other_batches():
    def first(seed):
        return batches(CrossModalityIdentitySampler(DATA, 12, 2, seed=seed), 6, 12)
    assert first(5) == first(5)
    assert first(5) != first(6)


def test_ranks_get_disjoint_identities():
    ranks = [CrossModalityIdentitySampler(DATA, 8, 2, seed=3, rank=r, world_size=2) for r in (0, 1)]
    streams = [batches(s, 20, 8) for s in ranks]
    for batch0, batch1 in zip(*streams):
        pids0, pids1 = {DATA[i][1] for i in batch0}, {DATA[i][1] for i in batch1}
        assert len(pids0) == len(pids1) == 2 and not pids0 & pids1
    # each round of 10 identities is cut to 8 (a multiple of 2 per batch x 2 ranks): 2 batches per rank
    round_pids = {DATA[i][1] for stream in streams for batch in stream[:2] for i in batch}
    assert len(round_pids) == 8


def test_set_epoch_restarts_a_reproducible_stream():
    sampler = CrossModalityIdentitySampler(DATA, 12, 2, seed=1)
    epoch0 = batches(sampler, 5, 12)
    sampler.set_epoch(1)
    epoch1 = batches(sampler, 5, 12)
    assert epoch1 != epoch0
    resumed = CrossModalityIdentitySampler(DATA, 12, 2, seed=1)
    resumed.set_epoch(1)
    assert batches(resumed, 5, 12) == epoch1
    sampler.set_epoch(0)
    assert batches(sampler, 5, 12) == epoch0


def test_bad_sizes_are_errors():
    with pytest.raises(ValueError, match="multiple of 2 \\* num_instances = 8"):
        CrossModalityIdentitySampler(DATA, 12, 4, seed=0)
    with pytest.raises(ValueError, match="10 identities with both modalities, fewer than 6 per batch x 2 ranks"):
        CrossModalityIdentitySampler(DATA, 24, 2, seed=0, rank=0, world_size=2)


def test_registered_by_name():
    assert SAMPLER_REGISTRY.get("CrossModalityIdentitySampler") is CrossModalityIdentitySampler
    naive = SAMPLER_REGISTRY.get("NaiveIdentitySampler")(DATA, 8, 2, seed=0)
    assert len(list(itertools.islice(iter(naive), 16))) == 16


def test_two_ranks_split_the_one_process_batch():
    # SOLVER.IMS_PER_BATCH 16 is global: one process takes 16 a batch, each of 2 ranks 8.
    one = batches(CrossModalityIdentitySampler(DATA, 16, 2, seed=4), 12, 16)
    ranks = [batches(CrossModalityIdentitySampler(DATA, 8, 2, seed=4, rank=r, world_size=2), 12, 8)
             for r in (0, 1)]
    for step, (whole, part0, part1) in enumerate(zip(one, *ranks)):
        assert sorted(part0 + part1) == sorted(whole), step
        pids = [DATA[i][1] for i in whole[:8]][::2]  # the one-process batch's identities, in order
        assert [DATA[i][1] for i in part0[:4]][::2] == pids[0::2]
        assert [DATA[i][1] for i in part1[:4]][::2] == pids[1::2]
