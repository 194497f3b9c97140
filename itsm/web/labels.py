"""Words the pages show for stored values (states, triggers, clocks), and display filters."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g, url_for
from flask_babel import lazy_gettext as _l

from itsm.models.types import Role
from itsm.notify.services.notices import SKIP_REASONS

STATES = {
    "new": _l("New"),
    "acknowledged": _l("Acknowledged"),
    "in_progress": _l("In progress (remote)"),
    "dispatched": _l("Dispatched"),
    "en_route": _l("On the way"),
    "on_site": _l("On site"),
    "restored": _l("Workaround running"),
    "waiting_customer": _l("Waiting for the customer"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
    "cancelled": _l("Cancelled"),
}
TRIGGERS = {
    "acknowledge": _l("Accept"),
    "start_remote": _l("Start remote work"),
    "dispatch": _l("Dispatch on site"),
    "depart": _l("Depart"),
    "arrive": _l("Arrive (check in)"),
    "locate": _l("Fault located"),
    "restore": _l("Restore (workaround running)"),
    "resolve": _l("Resolve"),
    "wait_customer": _l("Wait for the customer"),
    "resume": _l("Resume"),
    "reopen": _l("Reopen: not fixed"),
    "close": _l("Confirm the fix and close"),
    "cancel": _l("Cancel the ticket"),
}
TRIGGERS_WITH_OWN_FORM = ("dispatch", "arrive", "locate", "resolve")
"""Ticket steps the ticket page gives a form of their own; the others are buttons of one form
with an optional note."""

INSPECTION_STATES = {
    "planned": _l("Planned"),
    "assigned": _l("Assigned"),
    "in_progress": _l("In progress"),
    "submitted": _l("Submitted"),
    "accepted": _l("Accepted"),
    "cancelled": _l("Cancelled"),
    "missed": _l("Missed"),
}
INSPECTION_TRIGGERS = {
    "assign": _l("Assign"),
    "start": _l("Start the inspection"),
    "submit": _l("Submit"),
    "accept": _l("Accept the inspection"),
    "return": _l("Return for rework"),
    "cancel": _l("Cancel the inspection"),
    "miss": _l("Missed (window closed)"),
}
OBLIGATION_KINDS = {
    "system": _l("System inspection"),
    "device": _l("Device inspection"),
    "quarterly": _l("Quarterly inspection"),
    "pre_holiday": _l("Pre-holiday inspection"),
    "half_year_on_site": _l("Half-yearly on-site inspection"),
    "db_server": _l("Database server inspection"),
    "patch_upgrade": _l("Patch upgrade"),
    "backup_review": _l("Backup strategy review"),
    "ad_hoc": _l("Ad-hoc inspection"),
}
INSPECTION_MODES = {
    "remote": _l("remote"),
    "on_site": _l("on site"),
    "either": _l("remote or on site"),
}
CHECK_RESULTS = {
    "ok": _l("OK"),
    "fault": _l("Fault"),
    "not_applicable": _l("Not applicable"),
}
INSPECTION_EVENTS = {
    "generated": _l("planned from the contract's plan"),
    "created": _l("asked for outside the plan"),
    "update": _l("changed the engineer or the planned time"),
    "checklist": _l("saved the checklist"),
    "photo": _l("added a photo"),
    "ticket": _l("opened a ticket for a fault"),
}
LEDGER_REASONS = {
    "not_enough_occurrences_left": _l("fewer occurrences are left this year than it still owes"),
    "next_window_closing": _l("the next one's window closes today and it is not done"),
}
DAY_REASONS = {
    "weekday": _l("Working day"),
    "weekend": _l("Weekend"),
    "holiday": _l("Holiday"),
    "makeup_workday": _l("Make-up working day"),
    "fallback_weekday": _l("Working day"),
    "fallback_weekend": _l("Weekend"),
    "always_open": _l("Working day"),
}
METRICS = {
    "response": _l("Response"),
    "arrival": _l("Arrival on site"),
    "restore": _l("Restore"),
    "resolution": _l("Resolution"),
    "window": _l("Inspection window"),
}
CLOCK_STARTS = {
    "reported": _l("from the report"),
    "dispatched": _l("from dispatch"),
    "located": _l("once the fault is located"),
}
CLOCK_STATUSES = {
    "running": _l("running"),
    "paused": _l("paused"),
    "met": _l("met"),
    "breached": _l("breached"),
    "cancelled": _l("cancelled"),
}
KINDS = {
    "incident": _l("Fault"),
    "request": _l("Service request"),
    "consultation": _l("Question"),
}
PRIORITIES = {
    "P1": _l("P1 critical"),
    "P2": _l("P2 high"),
    "P3": _l("P3 normal"),
    "P4": _l("P4 low"),
}
CATEGORIES = {
    "software": _l("Software"),
    "hardware": _l("Hardware"),
    "network": _l("Network"),
    "database": _l("Database"),
    "data": _l("Data"),
    "training": _l("Training"),
    "other": _l("Other"),
}
ROLES = {
    "agent": _l("Hotline agent"),
    "engineer": _l("Engineer"),
    "requester": _l("Hospital IT"),
    "manager": _l("Manager"),
    "admin": _l("Administrator"),
}
EVENT_KINDS = {
    "created": _l("logged"),
    "updated": _l("edited"),
    "assigned": _l("assigned"),
    "comment": _l("commented"),
    "attachment": _l("attached a file"),
}
NOTIFICATION_STATUSES = {
    "pending": _l("waiting"),
    "sending": _l("sending"),
    "sent": _l("sent"),
    "delivered": _l("delivered"),
    "failed": _l("failed"),
    "skipped": _l("not sent"),
}
CHANNELS = {
    "sms": _l("SMS"),
    "wechat_app": _l("WeChat Work"),
    "wechat_robot": _l("WeChat group"),
    "-": _l("no channel"),
}
AUDIENCES = {
    "reporter": _l("caller"),
    "assignee": _l("engineer"),
    "on_duty": _l("on-duty engineer"),
    "supervisor": _l("duty supervisor"),
    "project_manager": _l("project manager"),
    "group": _l("contract group"),
}
NOTIFICATION_EVENTS = {
    "ticket_opened": _l("ticket logged"),
    "ticket_assigned": _l("assigned"),
    "ticket_dispatched": _l("dispatched"),
    "p1_opened": _l("P1 opened"),
    "sla_warning": _l("SLA warning"),
    "sla_breach": _l("SLA breached"),
    "ticket_resolved": _l("resolved, to confirm"),
    "inspection_assigned": _l("inspection assigned"),
    "inspection_due_soon": _l("inspection closing soon"),
    "inspection_missed": _l("inspection missed"),
    "inspection_returned": _l("inspection returned"),
}
SKIP_REASON_WORDS = {
    "inactive": _l("%(who)s is inactive"),
    "no_address": _l("%(who)s has neither a WeChat Work id nor a mobile number"),
    "no_mobile": _l("the caller gave no mobile number"),
    "not_mobile": _l("the caller's phone is not a mobile number"),
    "no_engineer": _l("the ticket has no engineer"),
    "no_assignee": _l("nobody is assigned yet"),
    "no_contact": _l("contract %(code)s names no %(duty)s"),
    "no_robot": _l("contract %(code)s has no WeChat group robot"),
}
_SKIP_PATTERNS = {
    kind: re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+?)", re.escape(text)))
    for kind, text in SKIP_REASONS.items()
}


def skip_reason(text: str | None) -> str:
    """A recorded reason for telling nobody, in the page's language (as recorded if unknown)."""
    for kind, pattern in _SKIP_PATTERNS.items():
        found = pattern.fullmatch(text or "")
        if found:
            values = found.groupdict()
            if "duty" in values:
                values["duty"] = label(values["duty"].replace(" ", "_"), "audience")
            return str(SKIP_REASON_WORDS[kind]) % values
    return text or ""


def label(value: Any, table: str) -> str:
    """The shown word for a stored value (the value itself when none is known)."""
    key = str(getattr(value, "value", value))
    return str(_TABLES[table].get(key, key))


_TABLES: dict[str, dict[str, Any]] = {
    "state": STATES,
    "trigger": TRIGGERS,
    "metric": METRICS,
    "clock": CLOCK_STATUSES,
    "starts": CLOCK_STARTS,
    "kind": KINDS,
    "priority": PRIORITIES,
    "category": CATEGORIES,
    "role": ROLES,
    "event": EVENT_KINDS,
    "notification": NOTIFICATION_STATUSES,
    "channel": CHANNELS,
    "audience": AUDIENCES,
    "notice": NOTIFICATION_EVENTS,
    "inspection_state": INSPECTION_STATES,
    "inspection_trigger": INSPECTION_TRIGGERS,
    "obligation": OBLIGATION_KINDS,
    "mode": INSPECTION_MODES,
    "check": CHECK_RESULTS,
    "inspection_event": INSPECTION_EVENTS,
    "ledger_reason": LEDGER_REASONS,
    "day": DAY_REASONS,
}


def local(value: datetime | None, timezone: str | None = None) -> str:
    """An instant as the contract's wall-clock time (default timezone when none is given)."""
    if value is None:
        return "—"
    tz = ZoneInfo(timezone or current_app.config["ITSM_SETTINGS"].timezone)
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


TARGET_UNITS = {
    "m": _l("%(n)s minutes"),
    "h": _l("%(n)s hours"),
    "bm": _l("%(n)s business minutes"),
    "bh": _l("%(n)s business hours"),
    "wd": _l("%(n)s working days"),
}


def target(text: str | None) -> str:
    """A clock's target ("8bh") in the page's language ("8 工作小时"); as stored if unknown."""
    found = re.fullmatch(r"(\d+(?:\.\d+)?)([a-z]+)", text or "")
    if found is None or found[2] not in TARGET_UNITS:
        return text or ""
    return str(TARGET_UNITS[found[2]]) % {"n": found[1]}


def hours_minutes(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    minutes = abs(int(seconds)) // 60
    return f"{sign}{minutes // 60}:{minutes % 60:02d}"


def number(value: Any) -> str:
    """A number as a person writes it: 80, not 80.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


FILTERS = {
    "label": label,
    "number": number,
    "local": local,
    "iso": iso,
    "hm": hours_minutes,
    "target": target,
    "skip_reason": skip_reason,
}


def navigation() -> list[tuple[str, str, str]]:
    """(endpoint, url, text) of the pages the signed-in user's role works in."""
    user = g.get("user")
    if user is None:
        return []
    items: list[tuple[str, Any]] = []
    if user.role in (Role.AGENT, Role.MANAGER, Role.ADMIN):
        items.append(("hotline.console", _l("Hotline console")))
    if user.role in (Role.ENGINEER, Role.MANAGER, Role.ADMIN):
        items.append(("engineer.my_work", _l("My work")))
    if user.role == Role.REQUESTER:
        items += [("portal.home", _l("Our requests")), ("portal.new", _l("New request"))]
    items.append(("inspection_pages.index", _l("Inspections")))
    if user.role in (Role.AGENT, Role.MANAGER, Role.ADMIN):
        items.append(("inspection_pages.obligations", _l("Inspection obligations")))
    items.append(("auth.api_tokens", _l("API tokens")))
    return [(endpoint, url_for(endpoint), str(text)) for endpoint, text in items]
