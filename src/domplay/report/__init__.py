"""The run report: one self-contained HTML file with plots, the yield table and a trajectory viewer.

`build_report` is imported on first use, so that `domplay --help` does not load the run machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from domplay.report.build import REPORT_FILE, build_report
    from domplay.report.viewer import ViewerConfig

__all__ = ["REPORT_FILE", "ViewerConfig", "build_report"]


def __getattr__(name: str) -> Any:
    if name in ("REPORT_FILE", "build_report"):
        from domplay.report import build

        return getattr(build, name)
    if name == "ViewerConfig":
        from domplay.report.viewer import ViewerConfig

        return ViewerConfig
    raise AttributeError(f"module 'domplay.report' has no attribute {name!r}")
