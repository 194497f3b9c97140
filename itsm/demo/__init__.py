"""Demo data for the itsm service: contracts, districts, institutions and CIs."""
