"""What every area's models share: the vocabulary's column types, the event-table mixin, the
outbox and idempotency records. Each area keeps its own tables in its `models.py`."""
