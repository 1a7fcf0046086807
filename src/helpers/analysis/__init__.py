"""Estimation for the reports: window levels and changes, comparison groups, DiD with placebo inference,
pre-trends, interrupted time series, synthetic control, sensitivity to the group, and the claims audit.

Functions return numbers (frames and frozen dataclasses); `helpers.present.text` turns them into Norwegian. The
modules are private; import the public names from here.
"""

from helpers.analysis._compare import Comparison, before_after, compare, series_frame
from helpers.analysis._did import (
    ALPHA,
    PRETREND_ALPHA,
    PRETREND_MIN_UNITS,
    DidResult,
    difference_in_differences,
    pre_trend,
)
from helpers.analysis._groups import (
    DEFAULT_GROUP,
    DEFAULT_N,
    GROUP_CHOICES,
    MATCH_RATES,
    ComparisonGroup,
    LeftOut,
    codes_on_structure,
    codes_without_size,
    select_group,
)
from helpers.analysis._inference import expected_by_chance, holm, placebo_ranks
from helpers.analysis._its import MIN_POST_FOR_P, ItsResult, interrupted_time_series
from helpers.analysis._memo import canonical
from helpers.analysis._panel import (
    Window,
    check_kommune,
    check_windows,
    period_label,
    prepare,
    usable,
)
from helpers.analysis._sensitivity import VARIANTS, did_size_runs, its_size_runs, sensitivity
from helpers.analysis._synthetic import POOR_FIT_PCT, SyntheticControl, synthetic_control, synthetic_controls
from helpers.analysis._windows import changes, comparison_scale

__all__ = [
    "ALPHA", "DEFAULT_GROUP", "DEFAULT_N", "GROUP_CHOICES", "MATCH_RATES", "MIN_POST_FOR_P", "POOR_FIT_PCT",
    "PRETREND_ALPHA", "PRETREND_MIN_UNITS", "VARIANTS", "Comparison", "ComparisonGroup", "DidResult",
    "ItsResult", "LeftOut", "SyntheticControl", "Window", "before_after", "canonical", "changes", "check_kommune",
    "check_windows", "codes_on_structure", "codes_without_size", "compare", "comparison_scale", "did_size_runs",
    "difference_in_differences", "expected_by_chance", "holm", "interrupted_time_series", "its_size_runs",
    "period_label", "placebo_ranks", "pre_trend", "prepare", "select_group", "sensitivity", "series_frame",
    "synthetic_control", "synthetic_controls", "usable",
]  # fmt: skip
