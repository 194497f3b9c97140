"""Notifications: who is told of what, by SMS and WeChat Work, and what providers call back."""

from itsm.area import Area, JobKind, Periodic

AREA = Area(
    "notify",
    models="itsm.notify.models",
    api=("itsm.notify.api:blp",),
    pages=("itsm.notify.hooks:blp",),
    jobs=(
        # A notification counts its own attempts and backs off by its own rules (deliveries.py).
        JobKind("notification", "notifications", "itsm.notify.jobs.deliver", retried=False),
        JobKind("notification_fallback", "notifications", "itsm.notify.jobs.check_fallback"),
        JobKind("wechat_inbound", "default", "itsm.notify.jobs.process_wechat"),
    ),
    periodic=(Periodic("lost-messages", "itsm.notify.jobs.sweep_unfinished", "notifications", 30),),
)
