import csv
import logging

import numpy as np
import pytest
import torch

import fastreid_ext  # noqa: F401  (FastReID import shims)
from fastreid_ext.config import get_cfg
from fastreid_ext.evaluation.cm_evaluator import CrossModalityEvaluator, metric_key

V, T = 0, 1
ATTRS = {1: [1.0, 0.0], 2: [0.0, 1.0]}
# path -> (pid, camid, modality, feature). Identity 1 points along x, identity 2 along y; the trial-1
# infrared images are swapped (identity 1 along y), so every query ranks its match second there.
IMAGES = {
    "v1a": (1, 1, V, [1.0, 0.0]), "v2a": (2, 2, V, [0.0, 1.0]),
    "t1a": (1, 3, T, [1.0, 0.1]), "t2a": (2, 6, T, [0.1, 1.0]),
    "t1b": (1, 3, T, [0.0, 1.0]), "t2b": (2, 6, T, [1.0, 0.0]),
}


class TwoTrialDataset:
    """The dataset contract with two settings ("v2t", "t2v") of two trials each over ``images``."""
    attribute_names = ["gender", "hair"]

    def __init__(self, name="RegDB", images=IMAGES, settings=("v2t", "t2v")):
        self.name, self.images, self.settings = name, images, list(settings)

    def default_settings(self):
        return self.settings

    def num_trials(self, setting):
        if setting not in self.settings:
            raise ValueError(f"unknown setting {setting!r}")
        return 2

    def _item(self, path):
        pid, cam, modality, _ = self.images[path]
        return path, pid, cam, modality, np.array(ATTRS[pid], np.float32)

    def test_split(self, setting, trial):
        visible = [self._item("v1a"), self._item("v2a")]
        infrared = [self._item(p) for p in (("t1a", "t2a") if trial == 0 else ("t1b", "t2b"))]
        return (visible, infrared) if setting == "v2t" else (infrared, visible)


def _extracted(paths, images=IMAGES):
    """What extraction would give: features of ``paths``; exact attribute predictions on visible
    images, inverted ones on infrared images."""
    gt = np.array([ATTRS[images[p][0]] for p in paths], np.float32)
    infrared = np.array([images[p][2] == T for p in paths])
    return {
        "features": np.array([images[p][3] for p in paths], np.float32),
        "pids": np.array([images[p][0] for p in paths]), "camids": np.array([images[p][1] for p in paths]),
        "modalities": np.array([images[p][2] for p in paths]), "img_paths": list(paths),
        "attributes": gt, "attr_probs": np.where(infrared[:, None], 1 - gt, gt),
    }


def _table_rows(log_text):
    """Cells of the data rows of the pipe tables in ``log_text``."""
    lines = [line for line in log_text.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def test_trial_mean_std_table_and_csv(tmp_path, caplog):
    evaluator = CrossModalityEvaluator(TwoTrialDataset(), test_attributes="pred", output_dir=str(tmp_path))
    assert [item[0] for item in evaluator.test_items()] == ["v1a", "v2a", "t1a", "t2a", "t1b", "t2b"]
    with caplog.at_level(logging.INFO, logger="fastreid_ext.evaluation.cm_evaluator"):
        results = evaluator.evaluate_features(_extracted(list(IMAGES)))
    for setting in ("v2t", "t2v"):
        key = f"RegDB/{setting}/pred"
        # Trial 0: both queries right at rank 1 (AP = INP = 1). Trial 1: both right only at rank 2
        # (AP = INP = 1/2). Mean and population std over the two trials:
        assert results[f"{key}/Rank-1"] == pytest.approx(50) and results[f"{key}/Rank-1_std"] == pytest.approx(50)
        assert results[f"{key}/Rank-5"] == pytest.approx(100)  # 2-image gallery: the curve is flat from rank 2
        assert results[f"{key}/mAP"] == pytest.approx(75) and results[f"{key}/mAP_std"] == pytest.approx(25)
        assert results[f"{key}/mINP"] == pytest.approx(75) and results[f"{key}/mINP_std"] == pytest.approx(25)
        assert f"{key}/rerank/Rank-1" not in results
    rows = _table_rows(caplog.text)
    assert ["RegDB", "-", "-", "v2t", "-", "pred", "off", "2", "50.00 ± 50.00", "100.00 ± 0.00",
            "100.00 ± 0.00", "100.00 ± 0.00", "75.00 ± 25.00", "75.00 ± 25.00"] in rows
    assert ["RegDB", "-", "-", "t2v", "-", "pred", "off", "2"] in [row[:8] for row in rows]

    with open(tmp_path / "RegDB_pred_trials.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["setting"], r["direction"], r["trial"], r["Rank-1"], r["mAP"]) for r in rows] == [
        ("v2t", "v2t", "0", "100.0000", "100.0000"), ("v2t", "v2t", "1", "0.0000", "50.0000"),
        ("t2v", "t2v", "0", "100.0000", "100.0000"), ("t2v", "t2v", "1", "0.0000", "50.0000")]


def test_protocol_follows_the_dataset_name():
    # Setting t2v, trial 0, with v1a moved to camera 2 and t1a (camera 3) now closest to v2a.
    images = dict(IMAGES, v1a=(1, 2, V, [1.0, 0.0]), t1a=(1, 3, T, [0.1, 1.0]))
    results = {}
    for name in ("SYSUMM01", "RegDB"):
        dataset = TwoTrialDataset(name, images, settings=["t2v"])
        dataset.num_trials = lambda setting: 1
        results.update(CrossModalityEvaluator(dataset).evaluate_features(_extracted(list(images), images)))
    # SYSU-MM01: t1a does not see camera 2 (v1a and v2a), has no match left and is skipped; t2a (camera 6)
    # finds v2a first: Rank-1 100 over the one valid query.
    assert results["SYSUMM01/t2v/na/Rank-1"] == pytest.approx(100)
    # RegDB hides nothing: t1a ranks v2a before v1a, so Rank-1 is 1 of 2.
    assert results["RegDB/t2v/na/Rank-1"] == pytest.approx(50)


def test_sysu_setting_labels_and_rerank_row(caplog):
    dataset = TwoTrialDataset("SYSUMM01", settings=["all-1shot-seeded"])
    dataset.test_split = lambda setting, trial: TwoTrialDataset.test_split(dataset, "t2v", trial)
    evaluator = CrossModalityEvaluator(dataset, rerank=True, rerank_k1=2, rerank_k2=1, test_attributes="gt")
    with caplog.at_level(logging.INFO, logger="fastreid_ext.evaluation.cm_evaluator"):
        results = evaluator.evaluate_features(_extracted(list(IMAGES)))
    labels = [row[:8] for row in _table_rows(caplog.text)]
    assert ["SYSUMM01", "all", "1", "t2v", "seeded", "gt", "off", "2"] in labels
    assert ["SYSUMM01", "all", "1", "t2v", "seeded", "gt", "on", "2"] in labels
    # Trial 1: t1b (cam 3) does not see v2a (cam 2), leaving v1a first; t2b (cam 6) ranks v2a second.
    assert results["SYSUMM01/all-1shot-seeded/gt/Rank-1"] == pytest.approx((100 + 50) / 2)
    assert 0 <= results["SYSUMM01/all-1shot-seeded/gt/rerank/mAP"] <= 100


def test_attribute_metrics_per_modality():
    evaluator = CrossModalityEvaluator(TwoTrialDataset(), settings=["v2t"])
    results = evaluator.evaluate_features(_extracted(list(IMAGES)))
    # Visible predictions are exact, infrared ones inverted. Over all six images each attribute is right
    # on 1 of its 3 positives and 1 of its 3 negatives: mA = 1/3.
    assert results["RegDB/attributes/visible/mA"] == pytest.approx(100)
    assert results["RegDB/attributes/infrared/mA"] == pytest.approx(0)
    assert results["RegDB/attributes/all/mA"] == pytest.approx(100 / 3)
    assert results["RegDB/attributes/visible/mA-hair"] == pytest.approx(100)
    assert results["RegDB/attributes/all/F1"] == pytest.approx(100 / 3)
    # AUC: exact visible scores rank perfectly, inverted infrared ones perfectly wrong. Over all six, a
    # positive wins 3 of the 9 (positive, negative) pairs of each attribute, ties counting half.
    assert results["RegDB/attributes/visible/AUC-hair"] == pytest.approx(100)
    assert results["RegDB/attributes/infrared/mAUC"] == pytest.approx(0)
    assert results["RegDB/attributes/all/AUC-gender"] == pytest.approx(100 / 3)


def test_no_auc_where_the_images_hold_one_class():
    evaluator = CrossModalityEvaluator(TwoTrialDataset(), settings=["v2t"])
    results = evaluator._attribute_results(_extracted(["v1a", "v2a", "t1a", "t1b"]))  # infrared: identity 1 only
    assert results["RegDB/attributes/infrared/mA-gender"] == pytest.approx(0)
    assert not [k for k in results if k.startswith("RegDB/attributes/infrared/") and "AUC" in k]
    assert results["RegDB/attributes/visible/AUC-gender"] == pytest.approx(100)


def test_process_batches_equals_evaluate_features():
    evaluator = CrossModalityEvaluator(TwoTrialDataset(), settings=["t2v"])
    extracted = _extracted(list(IMAGES))
    expected = evaluator.evaluate_features(extracted)
    evaluator.reset()
    for rows in (slice(0, 4), slice(4, 6)):
        inputs = {"targets": torch.as_tensor(extracted["pids"][rows]),
                  "camids": torch.as_tensor(extracted["camids"][rows]),
                  "modalities": torch.as_tensor(extracted["modalities"][rows]),
                  "img_paths": extracted["img_paths"][rows],
                  "attributes": torch.as_tensor(extracted["attributes"][rows])}
        evaluator.process(inputs, {"features": torch.as_tensor(extracted["features"][rows]),
                                   "attr_probs": torch.as_tensor(extracted["attr_probs"][rows])})
    assert evaluator.evaluate() == expected


def test_from_config_and_errors():
    cfg = get_cfg()
    cfg.TEST.SETTINGS = ["v2t"]
    cfg.TEST.MAX_RANK = 10
    evaluator = CrossModalityEvaluator(cfg, TwoTrialDataset(), test_attributes="none")
    results = evaluator.evaluate_features(_extracted(list(IMAGES)))
    assert evaluator.settings == ["v2t"] and "RegDB/v2t/none/Rank-10" in results
    assert "RegDB/v2t/none/Rank-20" not in results
    with pytest.raises(KeyError, match="image\\(s\\) of RegDB v2t trial 0 have no extracted features"):
        evaluator.evaluate_features(_extracted(["v1a", "t1a", "t2a"]))
    with pytest.raises(KeyError, match="no ranking protocol for dataset 'Market1501'"):
        CrossModalityEvaluator(TwoTrialDataset("Market1501"))
    with pytest.raises(ValueError, match="unknown setting 'v2x'"):
        CrossModalityEvaluator(TwoTrialDataset(), settings=["v2x"])


@pytest.mark.slow
def test_end_to_end_on_a_synthvi_set(synthvi_root, tmp_path):
    """The real dataset, test loader and model: one extraction, every default setting scored."""
    from fastreid.modeling.meta_arch import build_model

    from fastreid_ext.data.build import build_cm_dataset, build_cm_test_loader
    from fastreid_ext.evaluation.extractor import extract
    from tests.conftest import tiny_cfg

    cfg = tiny_cfg(synthvi_root, tmp_path)  # PAENet: the model also outputs attribute probabilities
    dataset = build_cm_dataset(cfg, cfg.DATASETS.TESTS[0])
    evaluator = CrossModalityEvaluator(cfg, dataset, output_dir=str(tmp_path), test_attributes="pred")
    items = evaluator.test_items()
    extracted = extract(build_model(cfg), build_cm_test_loader(cfg, items), flip=True)
    assert extracted["img_paths"] == [item[0] for item in items]
    results = evaluator.evaluate_features(extracted)
    for setting in evaluator.settings:
        for metric in ("Rank-1", "Rank-20", "mAP", "mINP"):
            assert 0 <= results[f"{dataset.name}/{setting}/pred/{metric}"] <= 100
    assert 0 <= results[f"{dataset.name}/attributes/infrared/mA"] <= 100
    with open(tmp_path / f"{dataset.name}_pred_trials.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == sum(evaluator.num_trials.values())


def test_top_k_from_a_gallery_index(caplog):
    exact = CrossModalityEvaluator(TwoTrialDataset(), settings=["t2v"]).evaluate_features(_extracted(list(IMAGES)))
    whole = CrossModalityEvaluator(TwoTrialDataset(), settings=["t2v"], max_rank=2, index={"kind": "flat"},
                                   index_topk=2)
    with caplog.at_level(logging.INFO, logger="fastreid_ext.evaluation.cm_evaluator"):
        results = whole.evaluate_features(_extracted(list(IMAGES)))
    # The top 2 is the whole 2-image gallery: the exact metrics, and all of the exact top-2 found.
    for metric in ("Rank-1", "mAP", "mINP"):
        assert results[f"RegDB/t2v/na/index/{metric}"] == pytest.approx(exact[f"RegDB/t2v/na/{metric}"])
    assert results["RegDB/t2v/na/index/Recall@2"] == pytest.approx(100)
    assert ["RegDB", "-", "-", "t2v", "-", "n/a", "off", "flat", "2"] in [row[:9] for row in _table_rows(caplog.text)]

    # Top 1: trial 0 finds each match first (AP 1); trial 1 ranks it second, outside the top 1 (AP 0).
    top1 = CrossModalityEvaluator(TwoTrialDataset(), settings=["t2v"], max_rank=1, index={"kind": "flat"},
                                  index_topk=1).evaluate_features(_extracted(list(IMAGES)))
    assert top1["RegDB/t2v/na/index/mAP"] == pytest.approx(50) and exact["RegDB/t2v/na/mAP"] == pytest.approx(75)
    assert top1["RegDB/t2v/na/index/mINP"] == pytest.approx(50)


def test_top_k_from_an_approximate_index():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((40, 16))
    images = {f"v{i}": (i % 40, 1, V, list(centres[i % 40] + 0.5 * rng.standard_normal(16))) for i in range(200)}
    images.update({f"t{i}": (i, 3, T, list(centres[i] + 0.5 * rng.standard_normal(16))) for i in range(40)})

    class Dataset(TwoTrialDataset):
        def test_split(self, setting, trial):
            return ([self._item(f"t{i}") for i in range(40)], [self._item(f"v{i}") for i in range(200)])

        def _item(self, path):
            pid, cam, modality, _ = self.images[path]
            return path, pid, cam, modality, None

    cfg = get_cfg()
    cfg.merge_from_list(["TEST.SETTINGS", ["t2v"], "TEST.INDEX.ENABLED", True, "TEST.INDEX.TOPK", 20,
                         "RETRIEVAL.KIND", "ivf", "RETRIEVAL.NLIST", 4, "RETRIEVAL.NPROBE", 1])
    evaluator = CrossModalityEvaluator(cfg, Dataset(images=images))
    assert evaluator.index == {"kind": "ivf", "batch_size": 4096, "nlist": 4, "nprobe": 1}
    extracted = {"features": np.array([images[p][3] for p in images], np.float32), "img_paths": list(images)}
    results = evaluator.evaluate_features(extracted)
    exact = CrossModalityEvaluator(Dataset(images=images), settings=["t2v"]).evaluate_features(extracted)
    # One of 4 cells scanned: part of the exact top-20 is missed, and the truncated mAP is below the exact one.
    assert 0 < results["RegDB/t2v/na/index/Recall@20"] < 100
    assert results["RegDB/t2v/na/index/mAP"] < exact["RegDB/t2v/na/mAP"]

    cfg.TEST.RERANK.ENABLED = True
    with pytest.raises(ValueError, match="TEST.RERANK.ENABLED needs every query-gallery distance"):
        CrossModalityEvaluator(cfg, Dataset(images=images))
    with pytest.raises(ValueError, match="TEST.INDEX.TOPK \\(10\\) must be at least TEST.MAX_RANK \\(20\\)"):
        CrossModalityEvaluator(Dataset(images=images), index={"kind": "flat"}, index_topk=10)


def test_metric_key_levels():
    assert metric_key("SYSUMM01", "all-1shot-seeded", "pred", "Rank-1") == "SYSUMM01/all-1shot-seeded/pred/Rank-1"
    assert metric_key("RegDB", "t2v", "n/a", "mAP_std", rerank=True, index=True) == "RegDB/t2v/na/rerank/index/mAP_std"
