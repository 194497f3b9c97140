"""State machines of the service's records, pure: no Flask, no SQLAlchemy, no I/O."""
