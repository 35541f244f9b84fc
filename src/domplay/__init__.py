"""domplay: self-improving LLM web agents with DOM-grounded verification."""

import os

# PyTorch's OpenMP threads spin while they wait. On a small CPU shared with Chromium, site
# servers or another job, spinning threads starve each other and matrix work gets ~10x
# slower; passive waiting costs little when the CPU is idle. Set before torch is imported;
# an explicit OMP_WAIT_POLICY in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
