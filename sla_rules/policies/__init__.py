"""SLA policies shipped for the five contracts (JSON data)."""
