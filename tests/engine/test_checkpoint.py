import os

import pytest
import torch
from torch import nn

import fastreid_ext  # noqa: F401
from fastreid_ext.config import get_cfg
from fastreid_ext.engine.checkpoint import CMCheckpointer, IncompatibleCheckpointError
from fastreid_ext.utils import CheckpointError


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def test_round_trip_with_optimizer_and_scheduler(tmp_path):
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [2, 4])
    model(torch.randn(5, 3)).sum().backward()
    opt.step()
    sched.step()
    CMCheckpointer(model, str(tmp_path), optimizer=opt, lr_sched=sched).save("model_0000", epoch=0)
    assert (tmp_path / "last_checkpoint").read_text() == "model_0000.pth"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]

    model2 = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    opt2 = torch.optim.SGD(model2.parameters(), lr=0.1, momentum=0.9)
    sched2 = torch.optim.lr_scheduler.MultiStepLR(opt2, [2, 4])
    ck = CMCheckpointer(model2, str(tmp_path), optimizer=opt2, lr_sched=sched2)
    extra = ck.resume_or_load("", resume=True)
    assert extra["epoch"] == 0
    for a, b in zip(model.state_dict().values(), model2.state_dict().values()):
        assert torch.equal(a, b)
    assert str(opt.state_dict()) == str(opt2.state_dict())
    assert sched.state_dict() == sched2.state_dict()


def test_renamed_key_fails_naming_it(tmp_path):
    state = _model().state_dict()
    state["0.renamed_weight"] = state.pop("0.weight")
    torch.save({"model": state}, tmp_path / "w.pth")
    with pytest.raises(IncompatibleCheckpointError) as err:
        CMCheckpointer(_model()).load(str(tmp_path / "w.pth"))
    assert "missing in checkpoint: 0.weight" in str(err.value)
    assert "unexpected in checkpoint: 0.renamed_weight" in str(err.value)


def test_shape_mismatch_fails_and_partial_load_skips(tmp_path, caplog):
    state = _model().state_dict()
    state["2.weight"] = torch.zeros(5, 4)
    torch.save({"model": state}, tmp_path / "w.pth")
    with pytest.raises(IncompatibleCheckpointError, match=r"shape mismatch: 2.weight"):
        CMCheckpointer(_model()).load(str(tmp_path / "w.pth"))
    model = _model()
    CMCheckpointer(model, strict=False).load(str(tmp_path / "w.pth"))
    assert torch.equal(model.state_dict()["0.weight"], state["0.weight"])
    assert not torch.equal(model.state_dict()["2.weight"], state["2.weight"][:2])
    assert "2.weight" in caplog.text


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        CMCheckpointer(_model()).load(str(tmp_path / "nope.pth"))


def test_truncated_file_is_named(tmp_path):
    CMCheckpointer(_model(), str(tmp_path)).save("model_final")
    data = (tmp_path / "model_final.pth").read_bytes()
    (tmp_path / "model_final.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=rf"^{tmp_path}/model_final.pth cannot be read as a checkpoint, it "
                                              r"may be truncated"):
        CMCheckpointer(_model()).load(str(tmp_path / "model_final.pth"))


def _config(**model):
    cfg = get_cfg()
    for key, value in model.items():
        setattr(cfg.MODEL.BACKBONE, key, value)
    return cfg.dump()


def test_mismatch_is_summarised_with_the_likely_cause(tmp_path):
    """Counts per kind, the first five keys of each, and the model keys on which the configs differ."""
    wide = nn.Sequential(*[nn.Linear(3, 3) for _ in range(8)])
    CMCheckpointer(wide, str(tmp_path), extra_state={"config": _config(DEPTH="18x")}).save("model_final")
    narrow = nn.Sequential(nn.Linear(3, 4), nn.Linear(3, 3))
    with pytest.raises(IncompatibleCheckpointError) as err:
        CMCheckpointer(narrow, extra_state={"config": _config(DEPTH="50x", WEIGHTS="ignored")}).load(
            str(tmp_path / "model_final.pth"))
    lines = str(err.value).splitlines()
    assert lines[0] == (f"checkpoint {tmp_path}/model_final.pth does not match the model: 0 missing, 12 unexpected "
                        "and 2 mis-shaped keys (likely cause: checkpoint MODEL.BACKBONE.DEPTH 18x, config 50x); "
                        "set MODEL.STRICT_LOAD False to load the matching keys only")
    assert lines[1:] == ([f"  unexpected in checkpoint: {k}" for k in ("2.bias", "2.weight", "3.bias", "3.weight",
                                                                         "4.bias")]
                         + ["  shape mismatch: 0.bias: checkpoint (3,) vs model (4,)",
                            "  shape mismatch: 0.weight: checkpoint (3, 3) vs model (4, 3)", "  ... and 7 more"])


def test_failed_write_keeps_previous_checkpoint(tmp_path):
    model = _model()
    ck = CMCheckpointer(model, str(tmp_path))
    ck.save("model_final")
    before = (tmp_path / "model_final.pth").read_bytes()

    class DiskFull:
        def __reduce__(self):
            raise OSError("disk full")

    class Boom(nn.Module):
        def state_dict(self, *a, **k):
            return {"x": DiskFull()}  # fails half-way through torch.save

    ck.model = Boom()
    with pytest.raises(OSError, match="disk full"):
        ck.save("model_final")
    assert (tmp_path / "model_final.pth").read_bytes() == before
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def _sgd_step(model):
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(5, 3)).sum().backward()
    opt.step()
    return opt


def test_keep_last_n_periodic_checkpoints(tmp_path):
    model = _model()
    ck = CMCheckpointer(model, str(tmp_path), keep=2, optimizer=_sgd_step(model))
    (tmp_path / "model_best.pth").write_bytes(b"best")
    for epoch in range(5):
        ck.save(f"model_{epoch:04d}", epoch=epoch)
    assert sorted(os.listdir(tmp_path)) == [
        "last_checkpoint", "model_0003.pth", "model_0004.pth", "model_best.pth"]
    ck.save("model_final", epoch=5)
    periodic = sorted(p for p in os.listdir(tmp_path) if p.startswith("model_0"))
    assert periodic == ["model_0003.pth", "model_0004.pth"]
    assert (tmp_path / "model_best.pth").read_bytes() == b"best"
    # epochs past 9999 still sort by number, not by name
    ck.save("model_10000", epoch=10000)
    assert sorted(p for p in os.listdir(tmp_path) if p.startswith("model_")) == [
        "model_0004.pth", "model_10000.pth", "model_best.pth", "model_final.pth"]

    all_kept = tmp_path / "all"
    all_kept.mkdir()
    ck = CMCheckpointer(model, str(all_kept), keep=0)
    for epoch in range(4):
        ck.save(f"model_{epoch:04d}")
    assert len([p for p in os.listdir(all_kept) if p.endswith(".pth")]) == 4
    with pytest.raises(ValueError, match="SOLVER.CHECKPOINT_KEEP must be >= 0"):
        CMCheckpointer(model, str(all_kept), keep=-1)


def test_final_weights_only_has_no_optimizer_and_loads(tmp_path):
    model = _model()
    opt = _sgd_step(model)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [2, 4])
    ck = CMCheckpointer(model, str(tmp_path), final_weights_only=True, extra_state={"config": "cfg"},
                        optimizer=opt, lr_sched=sched)
    ck.save("model_0000", epoch=0)
    ck.save("model_final", epoch=1)
    periodic = torch.load(tmp_path / "model_0000.pth", weights_only=True)
    final = torch.load(tmp_path / "model_final.pth", weights_only=True)
    assert {"model", "optimizer", "lr_sched", "config", "epoch"} == set(periodic)
    assert {"model", "config", "epoch"} == set(final)
    assert os.path.getsize(tmp_path / "model_final.pth") < os.path.getsize(tmp_path / "model_0000.pth")

    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    fresh_opt = torch.optim.SGD(fresh.parameters(), lr=0.1, momentum=0.9)
    extra = CMCheckpointer(fresh, optimizer=fresh_opt).load(str(tmp_path / "model_final.pth"))
    assert extra["epoch"] == 1 and extra["config"] == "cfg"
    for a, b in zip(model.state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(a, b)
    assert fresh_opt.state_dict()["state"] == {}
