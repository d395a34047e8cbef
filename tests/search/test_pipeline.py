import argparse
import json
import os
import shutil

import numpy as np
import pytest

from fastreid_ext.engine.args import run_tool
from fastreid_ext.retrieval import FingerprintMismatchError, IndexIntegrityError
from fastreid_ext.search.pipeline import (
    build_index,
    default_query_modality,
    extraction_settings,
    index_info,
    open_index,
    search,
)
from fastreid_ext.search.plot import plot_search_results
from fastreid_ext.search.sources import image_items


def _cosine(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a @ b / np.linalg.norm(a) / np.linalg.norm(b)


def test_build_then_search(colour_setup, tmp_path):
    model, cfg, gallery, queries = colour_setup.model, colour_setup.cfg, colour_setup.gallery, colour_setup.queries
    build_index(model, cfg, image_items([gallery], 0), str(tmp_path / "index"), chunk_size=3)
    info = index_info(str(tmp_path / "index"))
    assert {key: info[key] for key in ("kind", "metric", "count", "dim", "modalities")} == {
        "kind": "flat", "metric": "cosine", "count": 4, "dim": 6, "modalities": ["visible"]}
    assert info["weights"] == cfg.MODEL.WEIGHTS and len(info["model_fingerprint"]) == 16

    index, extraction = open_index(str(tmp_path / "index"), cfg)
    assert default_query_modality(extraction) == 1
    results = search(model, cfg, index, image_items([queries], 1), k=4)
    gallery_colours = colour_setup.gallery_colours
    for result, (query_name, colour) in zip(results, sorted(colour_setup.query_colours.items())):
        # Solid images: the features are the colour twice, so the scores are cosines of colours.
        expected = sorted(((_cosine(colour, rgb), name) for name, rgb in gallery_colours.items()), reverse=True)
        assert [m["img_path"] for m in result["matches"]] == [os.path.join(gallery, n) for _, n in expected]
        assert [m["score"] for m in result["matches"]] == pytest.approx([s for s, _ in expected], abs=1e-5)
        assert [m["rank"] for m in result["matches"]] == [1, 2, 3, 4]
        camid, pid = int(query_name[3]), int(query_name[5:9])
        assert result["query"] == {"img_path": os.path.join(queries, query_name), "pid": pid, "camid": camid,
                                   "modality": 1}
    top = results[0]["matches"][0]  # the red query finds the red identity-1 image of camera 1
    assert {key: top[key] for key in ("id", "pid", "camid", "modality")} == {"id": 0, "pid": 1, "camid": 1,
                                                                             "modality": 0}


def test_the_index_refuses_another_model_or_other_settings(colour_setup, tmp_path):
    model, cfg, gallery = colour_setup.model, colour_setup.cfg, colour_setup.gallery
    directory = str(tmp_path / "index")
    build_index(model, cfg, image_items([gallery], 0), directory)

    other = tmp_path / "other.pth"
    shutil.copy(cfg.MODEL.WEIGHTS, other)
    with open(other, "ab") as f:
        f.write(b"\0")
    changed = cfg.clone()
    changed.defrost()
    changed.MODEL.WEIGHTS = str(other)
    expected = (f"was indexed with the checkpoint {cfg.MODEL.WEIGHTS} \\(fingerprint '[0-9a-f]{{16}}'\\), "
                f"but MODEL.WEIGHTS is {other}")
    with pytest.raises(FingerprintMismatchError, match=expected):
        open_index(directory, changed)

    changed.MODEL.WEIGHTS = cfg.MODEL.WEIGHTS
    changed.INPUT.SIZE_TEST = [32, 16]
    changed.MODEL.DEVICE = "cuda"  # not a feature setting
    with pytest.raises(ValueError, match="INPUT.SIZE_TEST: indexed with \\[16, 8\\], now \\[32, 16\\]\\): use the"):
        open_index(directory, changed)

    os.remove(os.path.join(directory, "extraction.json"))
    with pytest.raises(FileNotFoundError, match="extraction.json is missing"):
        open_index(directory, cfg)


def test_extraction_settings(colour_setup):
    settings = extraction_settings(colour_setup.cfg)
    assert settings["INPUT.SIZE_TEST"] == [16, 8] and settings["TEST.FLIP.ENABLED"] is False
    assert "MODEL.BACKBONE.DEPTH" in settings
    for key in ("MODEL.WEIGHTS", "MODEL.DEVICE", "MODEL.BACKBONE.PRETRAIN", "MODEL.BACKBONE.PRETRAIN_PATH",
                "MODEL.HEADS.NUM_CLASSES", "INPUT.SIZE_TRAIN", "DATALOADER.NUM_WORKERS"):
        assert key not in settings
    assert not any(key.startswith("MODEL.LOSSES.") for key in settings)
    json.dumps(settings)


def test_search_asks_for_more_than_the_gallery(colour_setup, tmp_path):
    model, cfg, gallery, queries = colour_setup.model, colour_setup.cfg, colour_setup.gallery, colour_setup.queries
    index = build_index(model, cfg, image_items([gallery], 0), str(tmp_path / "index"))
    results = search(model, cfg, index, image_items([queries], 1), k=10)
    assert [len(result["matches"]) for result in results] == [4, 4]


def test_describe_ranks_fitting_items_by_joint_probability(colour_setup, tmp_path):
    from fastreid_ext.data.datasets.attributes import PAPER_ATTRIBUTES
    from fastreid_ext.search.pipeline import describe

    from .conftest import ColourAttributeModel

    cfg, gallery = colour_setup.cfg, colour_setup.gallery
    build_index(ColourAttributeModel().eval(), cfg, image_items([gallery], 0), str(tmp_path / "index"))
    index, extraction = open_index(str(tmp_path / "index"), cfg)
    assert extraction["attributes"] == list(PAPER_ATTRIBUTES)
    # gender = red, lower_body_type = blue, backpack = brightness (over 255) of these solid images.
    rgb = {os.path.join(gallery, name): np.array(colour) / 255 for name, colour in colour_setup.gallery_colours.items()}
    result = describe(index, extraction, "gender >= 0.1 and not lower_body_type > 0.5 or camid == 4", k=4)
    fits = [path for path, c in rgb.items() if (c[0] >= 0.1 and not c[2] > 0.5) or "cam4" in path]
    expected = sorted(fits, key=lambda path: -rgb[path][0] * (1 - rgb[path][2]))
    assert [m["img_path"] for m in result["matches"]] == expected and len(expected) == 3  # not the green one
    for match in result["matches"]:
        c = rgb[match["img_path"]]
        assert match["score"] == pytest.approx(c[0] * (1 - c[2]), abs=1e-6)
        assert match["backpack"] == pytest.approx(c.mean(), abs=1e-6)
    best = describe(index, extraction, "lower_body_type > 0.5", k=4)["matches"][0]
    assert best["img_path"].endswith("cam4/0003/0001.png")


def test_an_index_built_in_one_working_directory_reads_from_another(colour_setup, tmp_path, monkeypatch):
    """Relative image paths (a relative DATASETS.ROOT) are stored relative to the images' root folder, which the
    index records absolute: searching and drawing work from any working directory, and --image-root follows
    the images to another folder."""
    model, cfg = colour_setup.model, colour_setup.cfg
    monkeypatch.chdir(os.path.dirname(colour_setup.gallery))
    items = [(os.path.relpath(path), pid, camid, modality, None)
             for path, pid, camid, modality, _ in image_items([colour_setup.gallery], 0)]
    assert not os.path.isabs(items[0][0])
    build_index(model, cfg, items, "index")
    with open(os.path.join("index", "metadata.jsonl")) as f:
        assert json.loads(f.readline())["img_path"] == "cam1/0001/0001.png"
    assert index_info("index")["image_root"] == colour_setup.gallery

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    directory = os.path.join(os.path.dirname(colour_setup.gallery), "index")
    index, _ = open_index(directory, cfg)
    results = search(model, cfg, index, image_items([colour_setup.queries], 1), k=4)
    assert results[0]["matches"][0]["img_path"] == os.path.join(colour_setup.gallery, "cam1/0001/0001.png")
    assert all(os.path.isfile(m["img_path"]) for r in results for m in r["matches"])
    plot_search_results(results, "ranks.png", size=(32, 16))
    assert os.path.getsize("ranks.png") > 0

    moved = shutil.copytree(colour_setup.gallery, tmp_path / "moved")
    index, extraction = open_index(directory, cfg, image_root=str(moved))
    assert extraction["image_root"] == str(moved)
    assert index.metadata([0])[0]["img_path"] == os.path.join(moved, "cam1/0001/0001.png")
    with pytest.raises(FileNotFoundError, match="The gallery image root .*missing is not a folder"):
        open_index(directory, cfg, image_root=str(tmp_path / "missing"))


def test_a_corrupted_index_is_refused_unless_not_verified(colour_setup, tmp_path, capsys):
    model, cfg = colour_setup.model, colour_setup.cfg
    directory = str(tmp_path / "index")
    build_index(model, cfg, image_items([colour_setup.gallery], 0), directory)
    assert index_info(directory)["checksums"] == "verified"
    path = os.path.join(directory, "index.faiss")
    with open(path, "r+b") as f:  # one bit near the end: the file keeps its size
        f.seek(-2, os.SEEK_END)
        byte = f.read(1)
        f.seek(-2, os.SEEK_END)
        f.write(bytes([byte[0] ^ 0x20]))
    with pytest.raises(IndexIntegrityError, match=f"{path} is corrupted or was changed"):
        open_index(directory, cfg)
    with pytest.raises(IndexIntegrityError, match=f"{path} is corrupted or was changed"):
        index_info(directory)
    with pytest.raises(SystemExit) as exit_:  # the tools print it as one message, no traceback
        run_tool(lambda args: index_info(directory), argparse.Namespace())
    assert exit_.value.code == 2 and f"error: Gallery index file {path} is corrupted" in capsys.readouterr().err
    assert index_info(directory, verify=False)["checksums"] == "not verified"
    index, _ = open_index(directory, cfg, verify=False)
    assert len(index) == 4
