"""The weighting's error, apart from outreach.survey.weights (numpy) so that what only catches or
raises it, such as the CLI's option parsing, starts without numpy (issue 18)."""

from __future__ import annotations


class WeightingError(ValueError):
    """Weights cannot be made as asked (an empty cell, values the margins lack, margins that cannot be
    met together); the message says which and what to do."""
