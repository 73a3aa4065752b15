"""Who is (not) being heard: coverage of the register against the census margins, and the
usual-suspects meter (how concentrated answering is, how many respondents are new, and how the
self-enrolled answer beside the sampled). Figures are computed on resident ids inside the service;
only aggregates leave it, small cells suppressed (outreach.survey.small_cells)."""
