"""Evaluating agents against service standards: the engine, its measuring queries, the
store that writes only changed rows, and the rule preview."""

from performance.services.evaluation.engine import (
    EvaluationRun,
    evaluate_periods,
    evaluate_touched_by_batch,
)
from performance.services.evaluation.preview import preview_rule

__all__ = ["EvaluationRun", "evaluate_periods", "evaluate_touched_by_batch", "preview_rule"]
