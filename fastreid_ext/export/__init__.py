"""Deployment exports of trained models."""
from .onnx import ExportableModel, check_modalities, export_onnx, onnx_inputs, reference_outputs, run_onnx

__all__ = ["ExportableModel", "check_modalities", "export_onnx", "onnx_inputs", "reference_outputs", "run_onnx"]
