"""Each contract's inspection plan, versioned as SLA policies are: the shipped plan is
version 1, an admin publishes the next (naming the version they read), and occurrences keep
the version they were generated under."""

from __future__ import annotations

import copy
import functools
import json
import threading
from typing import Any

from sqlalchemy.orm import Session

from itsm import caches
from itsm.accounts.services.access import Actor
from itsm.directory.models import Contract
from itsm.errors import InvalidInput, PreconditionFailed
from itsm.inspections.models import InspectionPlan
from itsm.models import terms
from sla_rules.contracts import shipped_terms
from sla_rules.inspections import InvalidPlan, Plan, parse_plan

_parsed: dict[str, Plan] = {}
_lock = threading.Lock()


def parsed(row: InspectionPlan) -> Plan:
    """The plan a published version holds (parsed once per process; keyed by its text, since
    a rolled-back publish may hand its id out again)."""
    key = json.dumps(row.document, sort_keys=True, ensure_ascii=False)
    with _lock:
        plan = _parsed.get(key)
    if plan is None:
        plan = parse_plan(row.document)
        with _lock:
            if len(_parsed) > 1000:
                _parsed.clear()
            _parsed[key] = plan
    return plan


def _forget() -> None:
    with _lock:
        _parsed.clear()


caches.register("inspection-plans", "inspection plans parsed, by version", _forget)


def etag(row: InspectionPlan) -> str:
    return f'"plan-{row.contract_id}-{row.version}"'


def current_plan(session: Session, contract: Contract) -> InspectionPlan | None:
    """The contract's newest plan version; the shipped one is published as version 1, and a
    contract whose terms have no inspection clause has none."""
    row = terms.newest(session, InspectionPlan, contract.id)
    if row is not None:
        return row
    document = _shipped(contract.code)
    if document is None:
        return None
    return terms.publish_first(session, InspectionPlan, contract.id, copy.deepcopy(document))


@functools.cache
def _shipped(contract_code: str) -> dict[str, Any] | None:
    try:
        return shipped_terms(contract_code, "inspections")
    except KeyError:
        return None


def publish(
    session: Session,
    actor: Actor,
    contract: Contract,
    document: dict[str, Any],
    expected_version: int | None,
) -> InspectionPlan:
    """Validate and publish the next version (admins), based on the version the admin read
    (`expected_version`; None: whatever it is now); occurrences already made keep theirs. A
    plan naming another contract, or one that does not parse, is refused with the path of
    each error."""
    if document.get("contract", contract.code) != contract.code:
        raise InvalidInput(f"the plan names contract {document['contract']}, not {contract.code}")
    try:
        parse_plan(document)
    except InvalidPlan as error:
        raise InvalidInput(f"invalid plan: {error}", errors={"plan": error.errors}) from None
    current_row = current_plan(session, contract)  # the shipped one becomes version 1
    current = current_row.version if current_row else 0
    if expected_version is not None and expected_version != current:
        raise PreconditionFailed(
            f"the inspection plan of {contract.code} is at version {current}, not "
            f"{expected_version}; read it again and apply your change to it",
            current_etag=etag(current_row) if current_row else None,
        )
    stored = {key: value for key, value in document.items() if key != "contract"}
    return terms.publish(session, InspectionPlan, contract.id, stored, actor.user_id, current + 1)
