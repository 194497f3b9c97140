"""The floor for benchmarks/ticket_create.py: the least this stack can do to open a ticket.

The same frameworks and rows as `POST /api/v1/tickets`, with none of our logic: Flask with
flask-smorest parsing the body with the real `TicketCreateSchema` and answering with the real
`TicketSchema`, a bearer token checked against a dict, and in one transaction by SQLAlchemy
Core: the institution and its contract read (with the caller's contract as the only tenancy
rule), the ticket inserted with its number from the sequence, its creation event, one SMS
notification row and its outbox row; after commit, one RQ job handed over. No SLA, no quiet
hours, no audiences, no idempotency, no ETag, no workflow. What `itsm` costs beyond this is
what our code costs; what this costs beyond benchmarks/bare_app.py is what the stack costs.

Serve it with `BENCH_FLOOR_DATABASE_URL=… BENCH_FLOOR_REDIS_URL=… BENCH_FLOOR_TOKEN=…
gunicorn benchmarks.floor_app:app`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from flask import Flask, request
from flask.views import MethodView
from flask_smorest import Api, Blueprint, abort
from redis import Redis
from sqlalchemy import String, bindparam, create_engine, func, insert, select

from itsm.directory.models import Contract, Institution
from itsm.jobs import rq_enqueuer
from itsm.models.outbox import OutboxMessage
from itsm.notify.models import Notification
from itsm.outbox import Message
from itsm.tickets.models import TICKET_NUMBERS, Ticket, TicketEvent
from itsm.tickets.schemas import TicketCreateSchema, TicketSchema

TOKEN = os.environ.get("BENCH_FLOOR_TOKEN", "")
USER_ID = int(os.environ.get("BENCH_FLOOR_USER_ID", "0"))
CONTRACT_IDS = {int(i) for i in os.environ.get("BENCH_FLOOR_CONTRACT_IDS", "0").split(",")}
engine = create_engine(os.environ.get("BENCH_FLOOR_DATABASE_URL", "postgresql+psycopg:///bench"))
enqueue = rq_enqueuer(Redis.from_url(os.environ.get("BENCH_FLOOR_REDIS_URL", "redis://")))

_CONTEXT = (
    select(Institution.id, Institution.code, Institution.name, Contract.id, Contract.code)
    .join(Contract, Contract.id == Institution.contract_id)
    .where(Institution.id == bindparam("institution_id"))
)
_TICKET = Ticket.__table__
_INSERT_TICKET = (
    insert(_TICKET)
    .values(
        number=bindparam("prefix", type_=String())
        + func.to_char(TICKET_NUMBERS.next_value(), "FM9999999999999000000")
    )
    .returning(_TICKET.c.id, _TICKET.c.number)
)
_INSERT_EVENT = insert(TicketEvent.__table__)
_INSERT_NOTIFICATION = insert(Notification.__table__)
_INSERT_OUTBOX = insert(OutboxMessage.__table__)

app = Flask("floor")
app.config.update(API_TITLE="floor", API_VERSION="v1", OPENAPI_VERSION="3.0.3")
app.json.ensure_ascii = False  # type: ignore[attr-defined]
api = Api(app)
blp = Blueprint("floor", __name__)


@app.before_request
def authenticate() -> Any:
    if request.path != "/health" and request.headers.get("Authorization") != f"Bearer {TOKEN}":
        return {"message": "unauthorized"}, 401
    return None


@app.get("/health")
def health() -> Any:
    return {"ok": True}


@blp.route("/floor")
class Floor(MethodView):
    @blp.arguments(TicketCreateSchema())
    @blp.response(201, TicketSchema)
    def post(self, fields: dict[str, Any]) -> Any:
        now = datetime.now(UTC)
        with engine.begin() as conn:
            row = conn.execute(_CONTEXT, {"institution_id": fields["institution_id"]}).first()
            if row is None or row[3] not in CONTRACT_IDS:
                abort(422, message="unknown institution")
            inst_id, inst_code, inst_name, contract_id, contract_code = row
            ticket = {
                "kind": fields["kind"],
                "priority": fields["priority"],
                "bug_class": fields.get("bug_class"),
                "category": fields["category"],
                "channel": fields["channel"],
                "contract_id": contract_id,
                "institution_id": inst_id,
                "configuration_item_id": fields.get("configuration_item_id"),
                "reporter_name": fields.get("reporter_name", ""),
                "reporter_phone": fields.get("reporter_phone", ""),
                "title": fields["title"],
                "description": fields.get("description", ""),
                "reported_at": now,
                "created_at": now,
                "updated_at": now,
                "created_by_id": USER_ID,
                "assignee_id": None,
                "onsite_required": False,
                "state": "new",
                "reopen_count": 0,
                "version": 1,
            }
            ticket_id, number = conn.execute(
                _INSERT_TICKET, {**ticket, "prefix": f"INC-{now.year}-"}
            ).one()
            conn.execute(
                _INSERT_EVENT,
                {
                    "ticket_id": ticket_id,
                    "at": now,
                    "actor_id": USER_ID,
                    "kind": "created",
                    "to_state": "new",
                    "data": {},
                },
            )
            key = f"ticket_opened:t{ticket_id}:reporter:+8613912345678:sms"
            conn.execute(
                _INSERT_NOTIFICATION,
                {
                    "key": key,
                    "event": "ticket_opened",
                    "ticket_id": ticket_id,
                    "contract_id": contract_id,
                    "audience": "reporter",
                    "channel": "sms",
                    "address": "+8613912345678",
                    "lang": "zh_CN",
                    "context": {
                        "number": number,
                        "institution": inst_name,
                        "title": ticket["title"],
                    },
                    "status": "pending",
                    "attempts": 0,
                    "urgent": False,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            job = Message(f"notify:{key}:1", "notification", {"key": key})
            conn.execute(
                _INSERT_OUTBOX,
                {
                    "key": job.key,
                    "kind": job.kind,
                    "payload": job.payload,
                    "run_at": None,
                    "created_at": now,
                    "attempts": 0,
                },
            )
        enqueue([job])
        ref = {"id": inst_id, "code": inst_code, "name": inst_name}
        return {
            **ticket,
            "id": ticket_id,
            "number": number,
            "contract": {"id": contract_id, "code": contract_code, "name": ""},
            "institution": ref,
            "configuration_item": None,
            "assignee": None,
            "allowed_triggers": ["acknowledge", "cancel"],
        }


api.register_blueprint(blp)
