"""HTTP conventions of every part: problem+json errors, request ids and JSON log lines."""
