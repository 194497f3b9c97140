"""SLA: business calendars, policies, the clocks and deadlines of every subject, the sweep."""

from itsm.area import Area, JobKind, Periodic

AREA = Area(
    "sla",
    models="itsm.sla.models",
    api=("itsm.sla.api:blp",),
    jobs=(JobKind("sla_timer", "sla", "itsm.sla.jobs.fire_timer"),),
    periodic=(Periodic("sla-sweep", "itsm.sla.jobs.sweep_all", "sla", 60, needs_redis=False),),
)
"""The sweep is the safety net of every timer, and fires the deadline triggers of every
workflow whose timer was lost."""
