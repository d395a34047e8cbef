import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from PIL import Image

import fastreid_ext  # noqa: F401  (FastReID import shims)
from fastreid_ext.data.build import build_cm_test_loader
from fastreid_ext.engine import load_trained_model
from fastreid_ext.evaluation import extract
from fastreid_ext.export import ExportableModel, export_onnx, onnx_inputs, reference_outputs, run_onnx

MIXED = [0, 1, 1, 0, 1, 0, 0]


def _trained(cfg, *opts):
    cfg = cfg.clone()
    cfg.defrost()
    cfg.merge_from_list(list(opts))
    return load_trained_model(cfg)


def _check(wrapper, path, cfg, batches):
    """ONNX Runtime against the PyTorch model (its own modality routing) on each batch of modalities."""
    for seed, modalities in enumerate(batches):
        inputs = onnx_inputs(wrapper, len(modalities), cfg.INPUT.SIZE_TEST, cfg.MODEL.HEADS.NUM_ATTRIBUTES,
                             modalities=modalities, seed=seed)
        ours = run_onnx(path, inputs, wrapper.input_names)
        theirs = reference_outputs(wrapper, inputs)
        assert [o.shape for o in ours] == [t.shape for t in theirs]
        for name, a, b in zip(wrapper.output_names, ours, theirs):
            assert np.abs(a - b).max() <= 1e-4, (name, modalities)


def test_pred_attributes_graph_matches_pytorch_at_batch_1_and_7(trained_tiny, tmp_path):
    model, cfg = _trained(trained_tiny)
    path = str(tmp_path / "paenet.onnx")
    wrapper = export_onnx(model, path, cfg.INPUT.SIZE_TEST, cfg.MODEL.HEADS.NUM_ATTRIBUTES)
    graph = onnx.load(path).graph
    assert [i.name for i in graph.input] == ["images", "modalities"]
    assert [o.name for o in graph.output] == ["features", "attr_probs"]
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert graph.input[1].type.tensor_type.elem_type == onnx.TensorProto.INT64
    _check(wrapper, path, cfg, [[1], [0], MIXED])
    # The same image gets different features through the visible and the infrared stem.
    images = onnx_inputs(wrapper, 1, cfg.INPUT.SIZE_TEST)[0]
    visible, infrared = (run_onnx(path, (images, np.array([m])), wrapper.input_names)[0] for m in (0, 1))
    assert np.abs(visible - infrared).max() > 1e-3


def test_gt_attributes_become_an_input(trained_tiny, tmp_path):
    model, cfg = _trained(trained_tiny, "MODEL.PAE.TEST_ATTRIBUTES", "gt")
    path = str(tmp_path / "paenet_gt.onnx")
    wrapper = export_onnx(model, path, cfg.INPUT.SIZE_TEST, cfg.MODEL.HEADS.NUM_ATTRIBUTES, attr_probs=False)
    graph = onnx.load(path).graph
    assert [i.name for i in graph.input] == ["images", "modalities", "attributes"]
    assert [o.name for o in graph.output] == ["features"]
    _check(wrapper, path, cfg, [[1], MIXED])
    images, modalities, attributes = onnx_inputs(wrapper, 2, cfg.INPUT.SIZE_TEST, cfg.MODEL.HEADS.NUM_ATTRIBUTES)
    given, flipped = (run_onnx(path, (images, modalities, a), wrapper.input_names)[0]
                      for a in (attributes, 1 - attributes))
    # The graph reads its attributes input (repeated runs of one input agree exactly; these unit features differ).
    assert np.abs(given - flipped).max() > 1e-6
    with pytest.raises(ValueError, match="MODEL.HEADS.NUM_ATTRIBUTES"):
        onnx_inputs(wrapper, 2, cfg.INPUT.SIZE_TEST, num_attributes=0)


def test_flip_averages_each_image_with_its_mirror(trained_tiny, tmp_path):
    model, cfg = _trained(trained_tiny)
    path = str(tmp_path / "paenet_flip.onnx")
    wrapper = export_onnx(model, path, cfg.INPUT.SIZE_TEST, flip=True)
    _check(wrapper, path, cfg, [[1, 0, 1]])
    images, modalities = onnx_inputs(wrapper, 3, cfg.INPUT.SIZE_TEST)
    features = run_onnx(path, (images, modalities), wrapper.input_names)[0]
    mirrored = run_onnx(path, (images.flip(3), modalities), wrapper.input_names)[0]
    np.testing.assert_allclose(features, mirrored, atol=1e-4)  # symmetric in the flip


def test_unknown_routed_backbone_is_refused():
    class Routed(torch.nn.Module):
        def forward(self, x, modalities):
            return x

    model = torch.nn.Module()
    model.backbone, model.heads = Routed(), torch.nn.Identity()
    with pytest.raises(TypeError, match="Routed"):
        ExportableModel(model)


def test_a_modality_other_than_0_or_1_is_refused(trained_tiny, tmp_path):
    model, cfg = _trained(trained_tiny)
    path = str(tmp_path / "paenet.onnx")
    wrapper = export_onnx(model, path, cfg.INPUT.SIZE_TEST, attr_probs=False)
    images = onnx_inputs(wrapper, 3, cfg.INPUT.SIZE_TEST)[0]
    message = r"modalities must be 0 \(visible\) or 1 \(infrared\), got \[-1, 2\]"
    with pytest.raises(ValueError, match=message):
        onnx_inputs(wrapper, 3, cfg.INPUT.SIZE_TEST, modalities=[0, 2, -1])
    with pytest.raises(ValueError, match=message):
        run_onnx(path, (images, np.array([2, 1, -1])), wrapper.input_names)
    with pytest.raises(ValueError, match=message), torch.no_grad():
        wrapper(images, torch.tensor([-1, 0, 2]))
    # The graph itself refuses them too (ONNX Runtime's Gather bounds check), for callers that skip run_onnx.
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    for bad in (2, -1, -2, 7):
        with pytest.raises(Exception, match="out of (data )?bounds"):
            session.run(None, {"images": images.numpy(), "modalities": np.array([0, bad, 1])})
    session.run(None, {"images": images.numpy(), "modalities": np.array([0, 1, 1])})


def test_bicubic_resize_gives_the_evaluator_features(trained_tiny, tmp_path):
    """The graph takes images already resized to INPUT.SIZE_TEST: PIL's bicubic resampling (FastReID's test
    transform, torchvision Resize(interpolation=3)) of the RGB image gives the evaluator's features."""
    model, cfg = _trained(trained_tiny)
    path = str(tmp_path / "paenet.onnx")
    wrapper = export_onnx(model, path, cfg.INPUT.SIZE_TEST, attr_probs=False)
    rng = np.random.default_rng(0)
    picture = tmp_path / "person.png"
    Image.fromarray(rng.integers(0, 256, (150, 47, 3), dtype=np.uint8)).save(picture)
    item = (str(picture), 0, 1, 1, None)
    expected = extract(model, build_cm_test_loader(cfg, [item]))["features"]
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    height, width = cfg.INPUT.SIZE_TEST
    differences = {}
    for name, resample in (("bicubic", Image.BICUBIC), ("bilinear", Image.BILINEAR)):
        resized = Image.open(picture).convert("RGB").resize((width, height), resample)
        images = np.asarray(resized, np.float32).transpose(2, 0, 1)[None]
        features = run_onnx(path, (images, np.array([1])), wrapper.input_names)[0]
        differences[name] = np.abs(features - expected).max()
    assert differences["bicubic"] <= 1e-5
    assert differences["bilinear"] > 10 * differences["bicubic"]
