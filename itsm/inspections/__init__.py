"""Inspections (巡检): each contract's plan of obligations, their occurrences on its working
days, the checklist an engineer runs, and the ledger of what the year still owes."""

from itsm.area import Area, JobKind, Periodic

AREA = Area(
    "inspections",
    models="itsm.inspections.models",
    api=("itsm.inspections.api:blp", "itsm.inspections.api:reports_blp"),
    pages=("itsm.inspections.pages:bp",),
    registers=("itsm.inspections.services.transitions",),
    jobs=(JobKind("render_report", "reports", "itsm.inspections.jobs.render_report"),),
    periodic=(
        Periodic(
            "inspections-generate",
            "itsm.inspections.jobs.generate_ahead",
            "default",
            6 * 3600,
            needs_redis=False,
        ),
    ),
)
"""Occurrences are generated 90 days ahead; four runs a day make a missed one harmless.
Reports render on a queue of their own, taken last: seconds of PDF never hold up a timer or
a message behind them in the queue (a worker may also take only it: `--queues reports`)."""
