import fastreid_ext  # noqa: F401  (FastReID import shims)
import numpy as np
import onnx
import pytest
import torch

from fastreid_ext.engine import load_trained_model
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
