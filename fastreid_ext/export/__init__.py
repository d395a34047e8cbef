"""Deployment exports of trained models."""
from .onnx import ExportableModel, export_onnx, onnx_inputs, reference_outputs, run_onnx

__all__ = ["ExportableModel", "export_onnx", "onnx_inputs", "reference_outputs", "run_onnx"]
