"""Each shipped PAENet config and its baseline differ only in the PAENet modules, the head and the
attribute loss (and the output folder), so a table row's gain is the modules' alone."""
import glob
import os

import pytest

import fastreid_ext  # noqa: F401
import paenet  # noqa: F401  (registers MODEL.PAE.* / MODEL.AAL.*)
from fastreid_ext.config import get_cfg
from tests.conftest import REPO

PAENET = os.path.join(REPO, "projects", "PAENet", "configs")
BASELINES = os.path.join(REPO, "configs")
PAIRS = {
    "sysu.yml": "SYSU/mmd.yml",
    "sysu_gt.yml": "SYSU/mmd.yml",
    "sysu_agw.yml": "SYSU/agw.yml",
    "sysu_hct.yml": "SYSU/hct.yml",
    "regdb.yml": "RegDB/mmd.yml",
    "llcm.yml": "LLCM/mmd.yml",
}
ALLOWED_PREFIXES = ("MODEL.PAE.", "MODEL.AAL.", "MODEL.HEADS.ATTR_PRED.", "MODEL.LOSSES.ATTR.")
ALLOWED_KEYS = {"MODEL.HEADS.NAME", "MODEL.HEADS.NUM_ATTRIBUTES", "MODEL.LOSSES.NAME", "OUTPUT_DIR"}


def flat(node, prefix=""):
    """{dotted key: value} of a merged config."""
    out = {}
    for key, value in node.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def merged(path):
    cfg = get_cfg()
    cfg.merge_from_file(path)
    return flat(cfg)


def config_diff(paenet_path, baseline_path):
    """The keys whose values differ between two merged configs that a pair may not differ in, and the
    losses the PAENet config adds."""
    a, b = merged(paenet_path), merged(baseline_path)
    differing = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    forbidden = sorted(k for k in differing if k not in ALLOWED_KEYS and not k.startswith(ALLOWED_PREFIXES))
    added = set(a["MODEL.LOSSES.NAME"]) - set(b["MODEL.LOSSES.NAME"])
    removed = set(b["MODEL.LOSSES.NAME"]) - set(a["MODEL.LOSSES.NAME"])
    return forbidden, added, removed


def test_every_dataset_config_has_a_baseline():
    shipped = {os.path.basename(p) for pattern in ("sysu*.yml", "regdb*.yml", "llcm*.yml")
               for p in glob.glob(os.path.join(PAENET, pattern))}
    assert shipped == set(PAIRS)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_pair_differs_only_in_the_modules(name):
    forbidden, added, removed = config_diff(os.path.join(PAENET, name), os.path.join(BASELINES, PAIRS[name]))
    assert forbidden == []
    assert added == {"AttributeBCELoss"} and removed == set()


def test_diff_catches_a_recipe_change(tmp_path):
    path = tmp_path / "changed.yml"
    path.write_text(f"_BASE_: {os.path.join(PAENET, 'sysu.yml')}\nSOLVER:\n  STEPS: [21, 41]\n"
                    "MODEL:\n  BACKBONE:\n    SHARED_FROM: layer1\n")
    forbidden, _, _ = config_diff(str(path), os.path.join(BASELINES, "SYSU/mmd.yml"))
    assert forbidden == ["MODEL.BACKBONE.SHARED_FROM", "SOLVER.STEPS"]
