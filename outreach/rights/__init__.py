"""Residents' rights over their data: access and erasure requests (`requests`), by any form of an
address (`addresses`), and retention (`retention`)."""
