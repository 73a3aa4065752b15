"""Survey statistics with no I/O: small-cell suppression today; margins, allocation, raking, effective
n and the participation figures as the representative-results and who-is-heard issues add them."""
