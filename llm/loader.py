"""Load MentaLLaMA (a LLaMA/Vicuna base + a PEFT LoRA adapter) from local directories.

Everything that can be wrong with the model configuration (a missing path, an adapter trained
for another base, a quantization mode this machine cannot run) raises one ``ModelLoadError``
with a one-line message at load time, so a worker fails at start, never per job.
"""
from __future__ import annotations

import hashlib
import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.config import ModelSettings

log = logging.getLogger(__name__)

DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
QUANT_MODES = ("none", "8bit", "4bit", "fp8")


class ModelLoadError(RuntimeError):
    """The model cannot be loaded as configured; the message is one line for the start log."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


@dataclass
class LoadedModel:
    model: Any  # a PreTrainedModel or PeftModel, in eval mode
    tokenizer: Any
    device: str
    dtype: str
    quant: str
    merged: bool
    model_id: str
    max_context: int
    info: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """What health/metrics report: device, dtype, quant, model id and GPU memory."""
        from llm.gpu import device_report

        return {"model_id": self.model_id, "dtype": self.dtype, "quant": self.quant,
                "merged": self.merged, "max_context": self.max_context,
                **device_report(self.device), **self.info}


def load_model(settings: ModelSettings, device: str | None = None) -> LoadedModel:
    """Load tokenizer, base model and adapter as ``settings`` say; raise ModelLoadError."""
    import torch

    base_path = _check_base(settings.base_path)
    adapter_path = _check_adapter(settings.adapter_path) if settings.adapter_path else None
    if settings.quant not in QUANT_MODES:
        raise ModelLoadError(f"MODEL_QUANT={settings.quant!r}: expected one of {', '.join(QUANT_MODES)}")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = _resolve_dtype(settings.dtype, device)
    quant_config = _quantization_config(settings.quant, device, dtype)

    tokenizer = _load_tokenizer(base_path)
    model = _load_base(base_path, device, dtype, quant_config)
    merged = False
    if adapter_path is not None:
        model = _attach_adapter(model, adapter_path, base_path)
        # fp8 has no LoRA kernel: merge into the bf16 weights, then quantise the merged weights.
        if settings.quant == "fp8" or (settings.merge and settings.quant == "none"):
            model = model.merge_and_unload()
            merged = True
        elif settings.merge:
            log.warning("MODEL_MERGE ignored: cannot merge a LoRA into %s weights", settings.quant)
    if settings.quant == "fp8":
        from llm.fp8 import quantize_linears_fp8

        replaced = quantize_linears_fp8(model)
        log.info("fp8: %d linear layers quantised (row-wise e4m3)", replaced)
    model.eval()

    max_positions = int(getattr(model.config, "max_position_embeddings", 0) or 0)
    max_context = settings.max_context or max_positions
    if max_positions and max_context > max_positions:
        raise ModelLoadError(f"MODEL_MAX_CONTEXT={max_context} exceeds the model's "
                             f"max_position_embeddings={max_positions}")
    loaded = LoadedModel(
        model=model, tokenizer=tokenizer, device=device,
        dtype=str(dtype).removeprefix("torch."), quant=settings.quant, merged=merged,
        model_id=model_identity(base_path, adapter_path, settings.quant), max_context=max_context,
        info={"parameters": sum(p.numel() for p in model.parameters())},
    )
    log.info("model loaded: id=%s device=%s dtype=%s quant=%s merged=%s", loaded.model_id,
             device, loaded.dtype, settings.quant, merged)
    return loaded


# -- checks ---------------------------------------------------------------------------------
def _check_base(path: Path) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise ModelLoadError(f"MODEL_BASE_PATH={path}: not a directory")
    if not (path / "config.json").is_file():
        raise ModelLoadError(f"MODEL_BASE_PATH={path}: no config.json (not a transformers model)")
    if not any(path.glob("*.safetensors")) and not any(path.glob("*.bin")):
        raise ModelLoadError(f"MODEL_BASE_PATH={path}: no model weights (*.safetensors)")
    return path


def _check_adapter(path: Path) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise ModelLoadError(f"MODEL_ADAPTER_PATH={path}: not a directory")
    if not (path / "adapter_config.json").is_file():
        raise ModelLoadError(f"MODEL_ADAPTER_PATH={path}: no adapter_config.json (not a PEFT adapter)")
    return path


def _resolve_dtype(name: str, device: str):
    import torch

    if name == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32  # CPU half-precision matmuls are slow and less exact
    if name not in DTYPES:
        raise ModelLoadError(f"MODEL_DTYPE={name!r}: expected auto, {', '.join(DTYPES)}")
    return getattr(torch, DTYPES[name])


def _quantization_config(quant: str, device: str, dtype):
    """Build the transformers quantization config, or fail if the machine cannot run it.

    bitsandbytes is imported lazily: it is an optional GPU extra, absent on CPU machines.
    """
    if quant == "none":
        return None
    if not device.startswith("cuda"):
        raise ModelLoadError(f"MODEL_QUANT={quant} needs a CUDA GPU; this worker runs on {device}")
    import torch

    if quant in ("8bit", "4bit"):
        if importlib.util.find_spec("bitsandbytes") is None:
            raise ModelLoadError(f"MODEL_QUANT={quant} needs bitsandbytes: pip install 'mindq[gpu]'")
        from transformers import BitsAndBytesConfig

        if quant == "8bit":
            return BitsAndBytesConfig(load_in_8bit=True)
        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                  bnb_4bit_compute_dtype=dtype, bnb_4bit_use_double_quant=True)
    # fp8: weights are converted after loading (llm.fp8); the tensor-core FP8 GEMM needs
    # compute capability 8.9+ (Ada, Hopper).
    major, minor = torch.cuda.get_device_capability(torch.device(device).index or 0)
    if (major, minor) < (8, 9):
        raise ModelLoadError(f"MODEL_QUANT=fp8 needs compute capability >= 8.9; GPU has {major}.{minor}")
    if dtype != torch.bfloat16:
        raise ModelLoadError("MODEL_QUANT=fp8 computes in bf16: set MODEL_DTYPE=bf16 or auto")
    return None


# -- loading --------------------------------------------------------------------------------
def _load_tokenizer(base_path: Path):
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(base_path, local_files_only=True)
    except Exception as exc:  # any tokenizer failure is a config error
        raise ModelLoadError(f"MODEL_BASE_PATH={base_path}: cannot load tokenizer: {exc}") from exc
    if tokenizer.pad_token_id is None:
        # LLaMA/Vicuna tokenizers ship without a pad token; masks make its value irrelevant.
        tokenizer.pad_token = tokenizer.unk_token or tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def _load_base(base_path: Path, device: str, dtype, quant_config):
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"local_files_only": True, "dtype": dtype}
    if quant_config is not None:
        kwargs["quantization_config"] = quant_config
    if device.startswith("cuda"):
        kwargs["device_map"] = {"": device}  # one GPU per process: straight to it, no sharding
    try:
        model = AutoModelForCausalLM.from_pretrained(base_path, **kwargs)
    except Exception as exc:
        raise ModelLoadError(f"MODEL_BASE_PATH={base_path}: cannot load model: {exc}") from exc
    if not device.startswith("cuda"):
        model = model.to(device)  # type: ignore[arg-type]  # transformers' @wraps(Module.to) hides self
    return model


def _attach_adapter(model, adapter_path: Path, base_path: Path):
    from peft import PeftModel

    try:
        return PeftModel.from_pretrained(model, adapter_path, is_trainable=False)
    except Exception as exc:  # shape mismatch, missing modules, bad files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "size mismatch" in str(exc):
            reason = "weight shapes differ (adapter trained for another base model)"
        raise ModelLoadError(f"MODEL_ADAPTER_PATH={adapter_path} does not match MODEL_BASE_PATH="
                             f"{base_path}: {reason}") from exc


# -- identity -------------------------------------------------------------------------------
def model_identity(base_path: Path, adapter_path: Path | None, quant: str = "none") -> str:
    """``<base>+<adapter>@<hash>``: hash of the base config and weight file names/sizes (hashing
    65 GB of weights at start is too slow) and of the adapter's config and weights (small)."""
    h = hashlib.sha256()
    h.update((base_path / "config.json").read_bytes())
    for f in sorted(base_path.glob("*.safetensors")):
        h.update(f"{f.name}:{f.stat().st_size}".encode())
    name = _display_name(base_path)
    if adapter_path is not None:
        for f in sorted(adapter_path.glob("adapter_*")):
            h.update(f.name.encode())
            h.update(f.read_bytes())
        name += "+" + _display_name(adapter_path)
    ident = f"{name}@{h.hexdigest()[:12]}"
    return ident if quant == "none" else f"{ident}:{quant}"


def _display_name(path: Path) -> str:
    # "tiny/base" rather than a bare generic "base"
    return path.name if path.name not in {"base", "adapter", "model"} else f"{path.parent.name}/{path.name}"
