"""``CrossModalityEvaluator``: every trial of every setting of a cross-modality test set, from one extraction."""
import csv
import itertools
import logging
import os
import re
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Optional, Union

import numpy as np
import torch
from fastreid.config import CfgNode, configurable
from fastreid.evaluation import DatasetEvaluator
from fastreid.utils import comm
from tabulate import tabulate

from ..data.datasets.bases import INFRARED, MODALITY_NAMES, VISIBLE, CrossModalityDataset, Item
from ..retrieval.brute_force import brute_force_topk
from ..retrieval.index import GalleryIndex
from .attr_metrics import attribute_metrics
from .extractor import OutputCollector, concat_results
from .metrics import PROTOCOLS, FeatureDistance, evaluate_ranking
from .rerank import re_ranking
from .topk_metrics import evaluate_topk, topk_recall

logger = logging.getLogger(__name__)

__all__ = ["CrossModalityEvaluator", "DATASET_PROTOCOLS", "metric_key"]

# Dataset name (``dataset.name``) -> its ranking protocol in ``metrics.PROTOCOLS``; a new dataset adds a line.
DATASET_PROTOCOLS = {"SYSUMM01": "sysu", "RegDB": "regdb", "LLCM": "llcm"}
RANKS = (1, 5, 10, 20)
# SYSU-MM01 setting strings; other datasets' settings name only a direction ("v2t", "t2v").
_SYSU_SETTING = re.compile(r"^(?P<mode>all|indoor)-(?P<shots>\d+)shot-(?P<sampler>\w+)$")
_DIRECTION_CODES = {VISIBLE: "v", INFRARED: "t"}
_ATTRIBUTE_METRICS = ("mA", "Accu", "Prec", "Recall", "F1", "mAUC")
# TEST.METRIC -> the GalleryIndex metric ranking the same way.
_INDEX_METRICS = {"cosine": "cosine", "euclidean": "l2"}


def _index_args(cfg):
    """The ``GalleryIndex`` arguments of ``RETRIEVAL.*`` for :class:`CrossModalityEvaluator`'s ``index`` (the
    metric is TEST.METRIC's)."""
    args = GalleryIndex.from_config(cfg, dim=None)
    return {key: value for key, value in args.items() if key not in ("dim", "metric", "model_fingerprint")}


def metric_key(dataset: str, setting: str, attributes: str, metric: str, *, rerank: bool = False,
               index: bool = False) -> str:
    """The flat metrics.json key of one ranking result: ``<dataset>/<setting>/<attributes>[/rerank][/index]/<metric>``.

    ``attributes`` is the test-time attribute source (``gt``/``pred``/``none``, or ``n/a`` for models without
    attributes, written ``na`` so that it adds no key level); ``metric`` e.g. ``Rank-1``, ``mAP_std``.
    """
    return "/".join([dataset, setting, attributes.replace("/", "")] + ["rerank"] * rerank + ["index"] * index
                    + [metric])


def _direction(query, gallery):
    """``"t2v"`` for infrared queries against a visible gallery, ``"v2t"`` the other way."""
    q_mods, g_mods = {item.modality for item in query}, {item.modality for item in gallery}
    if len(q_mods) != 1 or len(g_mods) != 1:
        return "mixed"
    return f"{_DIRECTION_CODES[q_mods.pop()]}2{_DIRECTION_CODES[g_mods.pop()]}"


def _describe(setting):
    """(mode, shots, sampler) of a SYSU-MM01 setting; "-" for datasets without them."""
    match = _SYSU_SETTING.match(setting)
    return (match["mode"], match["shots"], match["sampler"]) if match else ("-", "-", "-")


def trials_file_name(dataset_name: str, test_attributes: str = "n/a") -> str:
    """The per-trial CSV of one dataset and test-time attribute source: ``SYSUMM01_pred_trials.csv``, or
    ``SYSUMM01_trials.csv`` for a model without attributes (``n/a``)."""
    if test_attributes == "n/a":
        return f"{dataset_name}_trials.csv"
    return f"{dataset_name}_{test_attributes}_trials.csv"


class CrossModalityEvaluator(DatasetEvaluator):
    """Scores each trial of each setting of a cross-modality test set.

    The features of :meth:`test_items` (every image of every trial, once) are extracted once: whole, by
    :func:`~fastreid_ext.evaluation.extractor.extract` and handed to :meth:`evaluate_features`, or batch
    by batch through :meth:`process` (FastReID's ``inference_on_dataset``, whose flip test averages
    tensors, not the output dicts: flip with ``extract``). Every trial is
    then ranked on ``metric`` distances under the dataset's protocol (:data:`DATASET_PROTOCOLS`); with
    ``rerank`` each setting gets a second, re-ranked row.

    Per setting, Rank-1/5/10/20, mAP and mINP (percent) are reported as mean and standard deviation
    (population, over trials): printed as a table, written per trial to ``<output_dir>/<dataset>_trials.csv``
    (``<dataset>_<attributes>_trials.csv`` for a model with test-time attributes, one file per source),
    and returned flat for metrics.json under :func:`metric_key` (the mean and ``<metric>_std``).
    ``test_attributes`` names where the model's test-time attributes come from
    (``gt``/``pred``/``none``, ``n/a`` for models without attributes; ``na`` in the keys). When the model outputs
    ``attr_probs`` and the images have ground-truth attributes, the attribute metrics of all, visible and
    infrared images follow under ``<dataset>/attributes/<subset>/<metric>``.

    With ``index`` (``TEST.INDEX.ENABLED``), each trial's gallery is put in a
    :class:`~fastreid_ext.retrieval.GalleryIndex` (``RETRIEVAL.*``) and only the top ``index_topk`` items of
    each query are ranked (:mod:`~fastreid_ext.evaluation.topk_metrics`: matches beyond them count as not
    found, so mAP and mINP are truncated lower bounds); the rows are keyed ``.../index/<metric>`` and add
    ``Recall@<k>``, the percentage of the exact top-k that the index returned.

    Args:
        dataset: a cross-modality dataset (``name``, ``attribute_names``, ``default_settings()``,
            ``num_trials(setting)``, ``test_split(setting, trial)``).
        settings: the settings to evaluate; empty = ``dataset.default_settings()``.
        index: ``GalleryIndex`` keyword arguments but ``dim`` and ``metric`` (``kind``, ``batch_size``, the
            kind's parameters); None = exact distances.
    """

    @configurable
    def __init__(self, dataset: CrossModalityDataset, *, settings: Sequence[str] = (), metric: str = "cosine",
                 max_rank: int = 20, block_size: int = 1024, rerank: bool = False, rerank_k1: int = 20,
                 rerank_k2: int = 6, rerank_lambda: float = 0.3, test_attributes: str = "n/a",
                 attr_threshold: float = 0.5, output_dir: Optional[str] = None, index: Optional[dict] = None,
                 index_topk: int = 100) -> None:
        if dataset.name not in DATASET_PROTOCOLS:
            raise KeyError(f"no ranking protocol for dataset {dataset.name!r}: add it to fastreid_ext."
                           f"evaluation.cm_evaluator.DATASET_PROTOCOLS (known: {sorted(DATASET_PROTOCOLS)})")
        if metric not in FeatureDistance.METRICS:
            raise ValueError(f"TEST.METRIC: unknown metric {metric!r}, expected one of {FeatureDistance.METRICS}")
        self.dataset = dataset
        self.protocol = PROTOCOLS[DATASET_PROTOCOLS[dataset.name]]
        self.settings = list(settings) or list(dataset.default_settings())
        self.num_trials = {setting: dataset.num_trials(setting) for setting in self.settings}
        self.metric, self.max_rank, self.block_size = metric, max_rank, block_size
        self.rerank = rerank
        self.rerank_args = {"k1": rerank_k1, "k2": rerank_k2, "lambda_value": rerank_lambda, "metric": metric}
        self.test_attributes = test_attributes
        self.attr_threshold = attr_threshold
        self.output_dir = output_dir
        if index is not None and rerank:
            raise ValueError("TEST.RERANK.ENABLED needs every query-gallery distance: turn off TEST.INDEX.ENABLED")
        if index is not None and index_topk < max_rank:
            raise ValueError(f"TEST.INDEX.TOPK ({index_topk}) must be at least TEST.MAX_RANK ({max_rank})")
        self.index, self.index_topk = index, index_topk
        self.reset()

    @classmethod
    def from_config(cls, cfg: CfgNode, dataset: CrossModalityDataset, output_dir: Optional[str] = None,
                    test_attributes: str = "n/a") -> dict:
        return {
            "dataset": dataset, "settings": cfg.TEST.SETTINGS, "metric": cfg.TEST.METRIC,
            "max_rank": cfg.TEST.MAX_RANK, "block_size": cfg.TEST.BLOCK_SIZE,
            "rerank": cfg.TEST.RERANK.ENABLED, "rerank_k1": cfg.TEST.RERANK.K1, "rerank_k2": cfg.TEST.RERANK.K2,
            "rerank_lambda": cfg.TEST.RERANK.LAMBDA, "test_attributes": test_attributes,
            "attr_threshold": cfg.TEST.ATTR_THRES, "output_dir": output_dir,
            "index": _index_args(cfg) if cfg.TEST.INDEX.ENABLED else None, "index_topk": cfg.TEST.INDEX.TOPK,
        }

    def _trials(self):
        return [(setting, trial) for setting in self.settings for trial in range(self.num_trials[setting])]

    def test_items(self) -> list[Item]:
        """Every query and gallery item of every evaluated trial, once each (by image path): what to extract."""
        items = OrderedDict()
        for setting, trial in self._trials():
            for item in map(Item._make, itertools.chain(*self.dataset.test_split(setting, trial))):
                items.setdefault(item.img_path, item)
        return list(items.values())

    def reset(self) -> None:
        self._collector = OutputCollector()

    def process(self, inputs: dict, outputs: Union[dict, torch.Tensor]) -> None:
        self._collector.add(inputs, outputs)

    def evaluate(self) -> dict:
        extracted = self._collector.result()
        if comm.get_world_size() > 1:
            comm.synchronize()
            parts = comm.gather(extracted, dst=0)
            if not comm.is_main_process():
                return {}
            extracted = concat_results(parts)
        return self.evaluate_features(extracted)

    def evaluate_features(self, extracted: dict) -> dict:
        """Score every trial from ``extracted`` (the dict of :func:`~fastreid_ext.evaluation.extractor.extract`).

        Returns:
            OrderedDict, flat: metric key -> percent (see the class docstring).
        """
        index = {path: row for row, path in enumerate(extracted["img_paths"])}
        records = []
        for setting in self.settings:
            start = time.perf_counter()
            for trial in range(self.num_trials[setting]):
                records.extend(self._score_trial(setting, trial, extracted["features"], index))
            logger.info("%s %s: %d trial(s) scored in %.1f s", self.dataset.name, setting,
                        self.num_trials[setting], time.perf_counter() - start)
        results = self._summarise(records)
        if "attr_probs" in extracted and "attributes" in extracted:
            results.update(self._attribute_results(extracted))
        self._write_trials(records)
        return results

    def _rows(self, items, index, setting, trial):
        missing = [item.img_path for item in items if item.img_path not in index]
        if missing:
            raise KeyError(f"{len(missing)} image(s) of {self.dataset.name} {setting} trial {trial} have no "
                           f"extracted features, e.g. {missing[:3]}; extract the images of test_items()")
        return np.array([index[item.img_path] for item in items], dtype=np.int64)

    def _score_trial(self, setting, trial, features, index):
        """The records (dicts) of one trial: the plain ranking, and the re-ranked one when enabled."""
        query, gallery = ([Item._make(item) for item in part] for part in self.dataset.test_split(setting, trial))
        q_feats = features[self._rows(query, index, setting, trial)]
        g_feats = features[self._rows(gallery, index, setting, trial)]
        q_pids, q_cams = (np.array([item[k] for item in query]) for k in (1, 2))
        g_pids, g_cams = (np.array([item[k] for item in gallery]) for k in (1, 2))
        mode, shots, sampler = _describe(setting)
        records = []
        for rerank, (cmc, mAP, mINP), extra in self._rankings(q_feats, g_feats, q_pids, g_pids, q_cams, g_cams):
            record = OrderedDict([
                ("dataset", self.dataset.name), ("setting", setting), ("mode", mode), ("shots", shots),
                ("direction", _direction(query, gallery)), ("sampler", sampler),
                ("attributes", self.test_attributes), ("rerank", rerank),
                *([("index", self.index["kind"])] if self.index is not None else []), ("trial", trial),
                ("queries", len(query)), ("gallery", len(gallery)),
            ])
            for r in RANKS:
                if r <= self.max_rank:
                    # Beyond the gallery size the curve stays at its last value.
                    record[f"Rank-{r}"] = 100 * cmc[min(r, len(cmc)) - 1]
            record["mAP"], record["mINP"] = 100 * mAP, 100 * mINP
            record.update(extra)
            records.append(record)
        return records

    def _rankings(self, q_feats, g_feats, q_pids, g_pids, q_cams, g_cams):
        """``(rerank, (cmc, mAP, mINP), extra record fields)`` of each ranking of one trial."""
        if self.index is not None:
            topk, recall = self._index_topk(q_feats, g_feats)
            scores = evaluate_topk(topk, q_pids, g_pids, q_cams, g_cams, self.protocol, self.max_rank)
            return [("off", scores, {f"Recall@{self.index_topk}": 100 * recall})]
        distances = [("off", FeatureDistance(q_feats, g_feats, self.metric))]
        if self.rerank:
            distances.append(("on", re_ranking(q_feats, g_feats, **self.rerank_args)))
        return [(rerank, evaluate_ranking(distance, q_pids, g_pids, q_cams, g_cams, self.protocol, self.max_rank,
                                          self.block_size), {}) for rerank, distance in distances]

    def _index_topk(self, q_feats, g_feats):
        """(Q, k) gallery rows found by a GalleryIndex over this gallery, and the fraction of the exact top-k
        (k = min(index_topk, G)) they hold."""
        k, metric = min(self.index_topk, len(g_feats)), _INDEX_METRICS[self.metric]
        index = GalleryIndex(g_feats.shape[1], metric=metric, **self.index)
        index.add(g_feats, np.arange(len(g_feats)))
        _, found = index.search(q_feats, k)
        _, exact = brute_force_topk(g_feats, q_feats, k, metric)
        return found, topk_recall(found, exact)

    def _summarise(self, records):
        """Mean and std over trials per (setting, rerank); print the table; return the flat results."""
        metrics = ([key for key in records[0] if key.startswith("Rank-")] + ["mAP", "mINP"]
                   + [key for key in records[0] if key.startswith("Recall@")])
        indexed = self.index is not None
        labels = ["dataset", "mode", "shots", "direction", "sampler", "attributes", "rerank"] + ["index"] * indexed
        groups = OrderedDict()
        for record in records:
            groups.setdefault((record["setting"], record["rerank"]), []).append(record)
        results, table = OrderedDict(), []
        for (setting, rerank), group in groups.items():
            row = [group[0][label] for label in labels] + [len(group)]
            for metric in metrics:
                values = np.array([record[metric] for record in group])
                for name, value in ((metric, values.mean()), (f"{metric}_std", values.std())):
                    key = metric_key(self.dataset.name, setting, self.test_attributes, name, rerank=rerank == "on",
                                     index=indexed)
                    results[key] = float(value)
                row.append(f"{values.mean():.2f} ± {values.std():.2f}")
            table.append(row)
        headers = (["Dataset", "Mode", "Shots", "Direction", "Sampler", "Attributes", "Re-rank"] + ["Index"] * indexed
                   + ["Trials"] + metrics)
        logger.info("Evaluation results of %s (mean ± std over trials):\n%s", self.dataset.name,
                    tabulate(table, headers=headers, tablefmt="pipe", stralign="left"))
        return results

    def _attribute_results(self, extracted):
        """Attribute metrics (percent) of all, visible and infrared images, overall and per attribute (mA and,
        where the images hold both classes, the threshold-free AUC)."""
        names = self.dataset.attribute_names or [str(a) for a in range(extracted["attributes"].shape[1])]
        subsets = [("all", np.ones(len(extracted["modalities"]), dtype=bool))] + [
            (MODALITY_NAMES[m], extracted["modalities"] == m) for m in (VISIBLE, INFRARED)]
        results, table = OrderedDict(), []
        for subset, mask in subsets:
            if not mask.any():
                continue
            scores = attribute_metrics(extracted["attributes"][mask], extracted["attr_probs"][mask],
                                       self.attr_threshold)
            prefix = f"{self.dataset.name}/attributes/{subset}"
            for metric in _ATTRIBUTE_METRICS:
                if not np.isnan(scores[metric]):  # no AUC where every image has the same labels
                    results[f"{prefix}/{metric}"] = 100 * scores[metric]
            for name, value, auc in zip(names, scores["mA_per_attribute"], scores["AUC_per_attribute"]):
                results[f"{prefix}/mA-{name}"] = 100 * float(value)
                if not np.isnan(auc):  # an attribute with one class on these images has no AUC
                    results[f"{prefix}/AUC-{name}"] = 100 * float(auc)
            table.append([subset, int(mask.sum())] + [100 * scores[m] for m in _ATTRIBUTE_METRICS]
                         + [100 * v for v in scores["mA_per_attribute"]])
        headers = ["Images", "Count"] + list(_ATTRIBUTE_METRICS) + [f"mA {name}" for name in names]
        logger.info("Attribute recognition on %s (threshold %.2f):\n%s", self.dataset.name, self.attr_threshold,
                    tabulate(table, headers=headers, tablefmt="pipe", floatfmt=".2f"))
        return results

    def _write_trials(self, records):
        if not self.output_dir or not comm.is_main_process():
            return
        os.makedirs(self.output_dir, exist_ok=True)
        path = os.path.join(self.output_dir, trials_file_name(self.dataset.name, self.test_attributes))
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(records[0]))
            writer.writeheader()
            for record in records:
                writer.writerow({k: f"{v:.4f}" if isinstance(v, float) else v for k, v in record.items()})
        logger.info("Per-trial results written to %s", path)
