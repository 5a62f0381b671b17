"""Export a local sentence-transformers BERT-style model to ONNX (fp32 and int8) for fast queries.

    python -m index.onnx_export index/models/multilingual-e5-small

The graph takes input_ids + attention_mask and returns mean-pooled, L2-normalised
embeddings (what the e5 sentence-transformers folder computes), so the runtime needs
only onnxruntime and the folder's tokenizer.json: no torch. The int8 file uses dynamic
per-channel weight quantisation (cosine to fp32 >= 0.99 on Vietnamese queries; checked
by tests/unit/test_onnx_embed.py). Needs torch and onnx at build time only.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ONNX_DIR = "onnx"
FILES = {"onnx": "model.onnx", "onnx-int8": "model_qint8.onnx"}
MARKER = "ocop_model.json"


def onnx_path(model_dir: Path, backend: str) -> Path:
    """Where the ONNX file of a backend ("onnx" or "onnx-int8") lives in a model folder."""
    return Path(model_dir) / ONNX_DIR / FILES[backend]


def _pooled_module(model_dir: Path):  # noqa: ANN202 - torch types stay out of import time
    """The transformer wrapped with mean pooling and normalisation, in eval mode."""
    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        """Mean pooling over the attention mask, then L2 normalisation."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            """Return normalised sentence embeddings."""
            hidden = self.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    return Pooled(AutoModel.from_pretrained(model_dir).eval()).eval()


def export(model_dir: Path) -> dict[str, Path]:
    """Write onnx/model.onnx and onnx/model_qint8.onnx into the model folder."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model_dir = Path(model_dir)
    out = {b: onnx_path(model_dir, b) for b in FILES}
    out["onnx"].parent.mkdir(parents=True, exist_ok=True)
    module = _pooled_module(model_dir)
    sample = torch.ones((2, 8), dtype=torch.long)
    axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}}
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        tmp_fp32 = Path(tmp) / "model.onnx"
        torch.onnx.export(
            module,
            (sample, sample),
            str(tmp_fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes=axes | {"embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
        tmp_int8 = Path(tmp) / "model_qint8.onnx"
        quantize_dynamic(tmp_fp32, tmp_int8, weight_type=QuantType.QInt8, per_channel=True)
        tmp_fp32.replace(out["onnx"])
        tmp_int8.replace(out["onnx-int8"])
    marker = model_dir / MARKER
    if marker.is_file():
        meta = json.loads(marker.read_text(encoding="utf-8"))
        meta["onnx"] = {b: str(p.relative_to(model_dir)) for b, p in out.items()}
        marker.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path, help="local sentence-transformers folder")
    args = parser.parse_args(argv)
    if not (args.model_dir / "config.json").is_file():
        print(f"error: {args.model_dir} is not a transformers model folder", file=sys.stderr)
        return 2
    for backend, path in export(args.model_dir).items():
        print(f"{backend}: {path} ({path.stat().st_size / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
