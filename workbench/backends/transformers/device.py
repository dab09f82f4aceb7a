"""Where the local model runs and in which precision: ``auto`` resolved once, before the run is
recorded, so every run stores the device and dtype it really used.

- device ``auto``: the first CUDA device when torch sees one, else Apple's MPS, else the CPU;
  ``cpu``, ``cuda``, ``cuda:N`` and ``mps`` name one (refused with one line where absent).
- dtype ``auto``: bfloat16 on CUDA devices that support it, float16 on older CUDA devices and
  on MPS, float32 on the CPU (bfloat16 matmuls are ~200× slower than float32 on CPUs without
  bf16 units, as this project's machine measured).
- free memory (``memory.default_budget``): what the device has free (CUDA:
  ``torch.cuda.mem_get_info``), or what the OS says is available for the CPU and MPS (which
  share the host's memory).
"""

from __future__ import annotations

import re

from ...errors import UsageError

DEVICES = ("auto", "cpu", "cuda", "cuda:N", "mps")
DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
DTYPES = ("auto", *DTYPE_BYTES)
_CUDA = re.compile(r"^cuda(:\d+)?$")


def check_names(device: str, dtype: str) -> None:
    """The names alone, without importing torch."""
    if device not in ("auto", "cpu", "mps") and not _CUDA.match(device):
        raise UsageError("device", f"{device!r} is not one of {', '.join(DEVICES)}")
    if dtype not in DTYPES:
        raise UsageError("dtype", f"{dtype!r} is not one of {', '.join(DTYPES)}")


def resolve_device(device: str) -> str:
    """``auto`` → the best device torch sees; a named one after checking it is there."""
    # torch takes seconds to import: only when a local model is about to load.
    import torch

    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if device == "auto":
        return "cuda:0" if cuda else "mps" if mps else "cpu"
    if device.startswith("cuda"):
        index = int(device.split(":")[1]) if ":" in device else 0
        if not cuda:
            raise UsageError("device", f"{device} asked, but torch sees no CUDA device here "
                                       f"(torch {torch.__version__})")
        if index >= torch.cuda.device_count():
            raise UsageError("device", f"{device} asked, but torch sees "
                                       f"{torch.cuda.device_count()} CUDA device(s)")
        return f"cuda:{index}"
    if device == "mps" and not mps:
        raise UsageError("device", "mps asked, but torch sees no MPS device here")
    return device


def resolve_dtype(dtype: str, device: str) -> str:
    """``auto`` → the fastest exact-enough precision for the device."""
    if dtype != "auto":
        return dtype
    if device.startswith("cuda"):
        import torch  # see resolve_device

        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return "float16" if device == "mps" else "float32"
