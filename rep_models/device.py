"""Pick the compute device: cuda, then mps, then cpu, unless told."""
import torch


def pick_device(requested: str = "auto") -> torch.device:
    if requested and requested != "auto":
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe(device: torch.device) -> str:
    """A human name for the device: the GPU's name, or 'CPU (N threads)'."""
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({torch.get_num_threads()} threads)"


def flush_denormals() -> None:
    """Flush denormal floats (below 1.2e-38) to zero in the calling thread (the setting is per thread).

    They appear inside the products of small weights and activations and send x86 CPUs down a slow
    microcode path: the shipped VAE decoded one digit in 23 ms instead of 1.4 ms. Flushing changes results by
    less than 1e-38. Called when ``rep_models`` is imported and by the app on every script run (Streamlit runs
    pages in its own threads); bench/inference.py measures both.
    """
    torch.set_flush_denormal(True)
