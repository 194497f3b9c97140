"""itsm: ticketing and SLA workflow service for healthcare-IT maintenance contracts."""
