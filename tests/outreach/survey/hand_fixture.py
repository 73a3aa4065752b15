"""The hand-computed fixture of the weighting tests: ten respondents, six in the centre (40% of the
city), four in the outskirts (60%), drawn with inclusion probabilities 1/2 or 1/4 (base weights 2 or
4), and their yes/no answers. Every figure below was worked out by hand."""

from __future__ import annotations

DISTRICTS = ["centre"] * 6 + ["outskirts"] * 4
PROBABILITIES = [0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.5, 0.5, 0.25, 0.25]
CITY = {"centre": 40_000.0, "outskirts": 60_000.0}
ANSWERS = ["yes", "yes", "no", "yes", "no", "no", "no", "yes", "no", "no"]

# centre: d × 0.4 / 18 × 10 (base weights 2,2,2,4,4,4 sum to 18); outskirts: d × 0.6 / 12 × 10.
WEIGHTS = [4 / 9, 4 / 9, 4 / 9, 8 / 9, 8 / 9, 8 / 9, 1, 1, 2, 2]
EFFECTIVE_N = 54 / 7  # 10² / (3·16/81 + 3·64/81 + 1 + 1 + 4 + 4) = 100 / (1050/81)
DESIGN_EFFECT = 35 / 27  # 10 / (54/7)
WEIGHTED_YES = 5 / 18  # (4/9 + 4/9 + 8/9 + 1) / 10 = 25/90
MARGIN_OF_ERROR_YES = 0.316077  # 1.96·sqrt(5/18 · 13/18 / (54/7)), to six places
