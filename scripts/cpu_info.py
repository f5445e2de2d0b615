"""The CPU as /proc/cpuinfo lists it, for the scripts that record where a figure was measured
(parity.py, benchmark.py). Only the standard library."""
import os
import re


def _first_processor():
    try:
        with open("/proc/cpuinfo") as f:
            return f.read().split("\n\n")[0]
    except OSError:
        return ""


def cpu_model():
    """The first processor's model name, or "unknown"."""
    model = re.search(r"^model name\s*:\s*(.*)$", _first_processor(), re.MULTILINE)
    return model.group(1).strip() if model else "unknown"


def cpu_description():
    """The model name and whether the CPU has the bf16 instructions and matrix units that decide
    which precision is fastest (no speed claim without the CPU it was measured on)."""
    flags_line = re.search(r"^flags\s*:\s*(.*)$", _first_processor(), re.MULTILINE)
    flags = set(flags_line.group(1).split()) if flags_line else set()
    features = [name for flag, name in (("avx512f", "AVX-512"), ("avx512_bf16", "AVX-512 BF16"), ("amx_bf16", "AMX"))
                if flag in flags] or ["no AVX-512"]
    return f"{cpu_model()} ({', '.join(features)}, {os.cpu_count()} logical CPUs)"
