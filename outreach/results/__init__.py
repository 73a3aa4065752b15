"""Answers as they leave the service: the pure answer rows, public values, the terminal view,
exports and the data dictionary."""
