"""Tickets: the hotline's calls, the engineer's work, the requester's portal."""

from itsm.area import Area

AREA = Area(
    "tickets",
    models="itsm.tickets.models",
    api=("itsm.tickets.api:blp",),
    pages=(
        "itsm.tickets.pages.hotline:bp",
        "itsm.tickets.pages.tickets:bp",
        "itsm.tickets.pages.engineer:bp",
        "itsm.tickets.pages.portal:bp",
    ),
)
