#!/usr/bin/env python
"""Export a trained model to ONNX: inputs ``images`` (B, 3, H, W) float 0..255 and ``modalities`` (B,)
int64 (0 visible, 1 infrared), plus ``attributes`` (B, A) float when the head reads ground-truth
attributes (MODEL.PAE.TEST_ATTRIBUTES gt); outputs ``features`` (B, D) and ``attr_probs`` (B, A) when
the model predicts attributes. The batch axis is dynamic; H, W are INPUT.SIZE_TEST. With TEST.FLIP.ENABLED
the outputs average each image and its horizontal flip, as the evaluator's features do.

    python tools/export_onnx.py --config-file projects/PAENet/configs/sysu.yml --output paenet.onnx \
        [--features-only] [--no-flip] [--opset 17] MODEL.WEIGHTS output/sysu/paenet/model_final.pth [KEY VALUE ...]

After writing, the graph is run with onnxruntime on a mixed-modality batch and compared with PyTorch.
"""
import logging

import numpy as np

import fastreid_ext  # noqa: F401  (patches FastReID and registers everything)
from fastreid_ext.engine import load_trained_model
from fastreid_ext.engine.args import ArgumentParser, run_tool
from fastreid_ext.engine.defaults import build_config, setup_logging
from fastreid_ext.export import export_onnx, onnx_inputs, reference_outputs, run_onnx

logger = logging.getLogger("fastreid_ext.export")


def parse_args(argv=None):
    parser = ArgumentParser(__doc__)
    parser.add_argument("--config-file", required=True, metavar="FILE", help="path to config file")
    parser.add_argument("--output", required=True, help="the .onnx file to write")
    parser.add_argument("--features-only", action="store_true", help="leave out the attribute probabilities")
    parser.add_argument("--no-flip", action="store_true",
                        help="leave out the flipped-image average of TEST.FLIP.ENABLED")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset version")
    parser.add_argument("--raw-features", action="store_true",
                        help="output the BNNeck features as they are, not L2-normalised (the cosine metric's input)")
    return parser.parse_args(argv)


def main(args):
    setup_logging()
    # As FastReID's deploy tools: config file and overrides only, so nothing but the .onnx file is
    # written (no OUTPUT_DIR, whose config.yaml may be a training run's).
    model, cfg = load_trained_model(build_config(args.config_file, args.opts + ["MODEL.DEVICE", "cpu"]))
    size, num_attributes = tuple(cfg.INPUT.SIZE_TEST), cfg.MODEL.HEADS.NUM_ATTRIBUTES
    flip = cfg.TEST.FLIP.ENABLED and not args.no_flip
    wrapper = export_onnx(model, args.output, size, num_attributes, not args.features_only, flip, args.opset,
                          normalize=not args.raw_features)
    inputs = onnx_inputs(wrapper, 5, size, num_attributes, modalities=[0, 1, 1, 0, 1])
    outputs = run_onnx(args.output, inputs, wrapper.input_names)
    for name, ours, theirs in zip(wrapper.output_names, outputs, reference_outputs(wrapper, inputs)):
        logger.info("check on 5 mixed-modality images: %s max |ONNX - PyTorch| = %.2e", name,
                    np.abs(ours - theirs).max())


if __name__ == "__main__":
    arguments = parse_args()
    run_tool(main, arguments)
