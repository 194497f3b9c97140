"""Who sees what: the tenancy matrix over the API.

Agents and managers see every ticket of their contracts; engineers see open tickets of their
contracts and what is assigned to them; a requester sees and files only for their own
institution; an admin sees everything. What may not be seen answers 404, exactly as for an id
that never existed: never 403, never a hint that the record is there.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.factories import World

NO_SUCH_ID = 2_147_483_647

# Where a ticket is: the world's first institution, its second one, or another contract's.
PLACES = ("own", "second", "other")
ROLES = ("agent", "engineer", "manager", "admin", "requester", "requester2")
SEES: dict[str, set[str]] = {
    "agent": {"own", "second"},
    "engineer": {"own", "second"},  # open tickets of the contract
    "manager": {"own", "second"},
    "admin": {"own", "second", "other"},
    "requester": {"own"},  # the first institution's requester
    "requester2": {"second"},  # the second institution's requester
}
MATRIX = [
    pytest.param(who, place, place in SEES[who], id=f"{who}-{place}")
    for who in ROLES
    for place in PLACES
]


def _institution(world: World, other_world: World, place: str) -> tuple[World, int]:
    if place == "own":
        return world, world.institution_id
    if place == "second":
        return world, world.second_institution_id
    return other_world, other_world.institution_id


def _open(client: FlaskClient, world: World, other_world: World, place: str, **body: Any) -> dict:
    """A new ticket at `place`, opened by that contract's agent."""
    owner, institution_id = _institution(world, other_world, place)
    return owner.open_ticket(client, institution_id=institution_id, **body)


def _assert_hidden(response: TestResponse, kind: str, record_id: int) -> None:
    """The answer for a record one may not see: that of a record that does not exist."""
    assert response.status_code == 404, (response.status_code, response.get_json())
    assert response.get_json() == {
        "status": 404,
        "code": "not_found",
        "message": f"{kind} {record_id} not found",
    }


def _read(client: FlaskClient, world: World, who: str, what: str, ticket_id: int) -> TestResponse:
    suffix = "" if what == "ticket" else f"/{what}"
    return client.get(f"/api/v1/tickets/{ticket_id}{suffix}", headers=world.headers(who))


def _as_admin(client: FlaskClient, world: World, ticket_id: int, what: str = "") -> Any:
    """The record as the admin sees it (everything), to check that nothing changed."""
    response = client.get(f"/api/v1/tickets/{ticket_id}{what}", headers=world.headers("admin"))
    assert response.status_code == 200
    return response.get_json()


def test_an_unknown_ticket_is_not_found(client: FlaskClient, world: World) -> None:
    """The reference answer that hidden tickets must give too."""
    for what in ("ticket", "events", "comments", "attachments"):
        _assert_hidden(_read(client, world, "agent", what, NO_SUCH_ID), "ticket", NO_SUCH_ID)


@pytest.mark.parametrize(("who", "place", "visible"), MATRIX)
def test_reading_a_ticket(
    client: FlaskClient, world: World, other_world: World, who: str, place: str, visible: bool
) -> None:
    ticket = _open(client, world, other_world, place)
    tid = ticket["id"]
    for what in ("ticket", "events", "comments", "attachments"):
        response = _read(client, world, who, what, tid)
        if not visible:
            _assert_hidden(response, "ticket", tid)
            continue
        assert response.status_code == 200, (what, response.get_json())
        body = response.get_json()
        if what == "ticket":
            assert body["id"] == tid
            assert response.headers["ETag"] == f'"{tid}-{ticket["version"]}"'
        elif what == "events":
            assert [e["kind"] for e in body] == ["created"]
        else:
            assert body == []


@pytest.mark.parametrize("who", ROLES)
def test_listing_shows_exactly_the_tickets_one_may_see(
    client: FlaskClient, world: World, other_world: World, who: str
) -> None:
    marker = f"tenancy-{uuid.uuid4().hex[:10]}"
    ids = {
        place: _open(client, world, other_world, place, title=f"{marker} {place}")["id"]
        for place in PLACES
    }
    response = client.get(
        "/api/v1/tickets", query_string={"q": marker, "per_page": 200}, headers=world.headers(who)
    )
    assert response.status_code == 200, response.get_json()
    page = response.get_json()
    listed = {item["id"] for item in page["items"]}
    assert listed == {ids[place] for place in SEES[who]}
    assert page["total"] == len(SEES[who])

    if who == "admin":
        return
    # Unfiltered, too: nothing of another tenant on the page, and the total counts only theirs.
    everything = client.get(
        "/api/v1/tickets", query_string={"per_page": 200}, headers=world.headers(who)
    ).get_json()
    assert everything["total"] == len(everything["items"]) == len(SEES[who])
    assert {item["contract"]["id"] for item in everything["items"]} == {world.contract_id}


@pytest.mark.parametrize("who", ["requester", "requester2"])
def test_filtering_by_another_institution_shows_nothing(
    client: FlaskClient, world: World, who: str
) -> None:
    for place in ("own", "second"):
        world.open_ticket(client, institution_id=_institution(world, world, place)[1])
    mine = world.institution_id if who == "requester" else world.second_institution_id
    theirs = world.second_institution_id if who == "requester" else world.institution_id
    for institution_id, expected in ((mine, 1), (theirs, 0)):
        page = client.get(
            "/api/v1/tickets",
            query_string={"institution_id": institution_id},
            headers=world.headers(who),
        ).get_json()
        assert page["total"] == len(page["items"]) == expected


@pytest.mark.parametrize("who", ["agent", "engineer", "manager", "requester"])
def test_filtering_by_another_contract_is_not_found(
    client: FlaskClient, world: World, other_world: World, who: str
) -> None:
    other_world.open_ticket(client)
    response = client.get(
        "/api/v1/tickets",
        query_string={"contract": other_world.contract_code},
        headers=world.headers(who),
    )
    assert response.status_code == 404
    assert response.get_json()["message"] == f"contract {other_world.contract_code} not found"


def test_an_admin_may_filter_by_any_contract(
    client: FlaskClient, world: World, other_world: World
) -> None:
    ticket = other_world.open_ticket(client)
    page = client.get(
        "/api/v1/tickets",
        query_string={"contract": other_world.contract_code},
        headers=world.headers("admin"),
    ).get_json()
    assert [item["id"] for item in page["items"]] == [ticket["id"]]


# Writes: each role does something it may do to a ticket it sees; on a ticket it may not
# see, the same request answers 404 and changes nothing.

TRIGGER = {"requester": "cancel", "requester2": "cancel"}  # staff and engineers: acknowledge


@pytest.mark.parametrize(("who", "place", "visible"), MATRIX)
def test_editing_a_ticket(
    client: FlaskClient, world: World, other_world: World, who: str, place: str, visible: bool
) -> None:
    ticket = _open(client, world, other_world, place)
    tid = ticket["id"]

    def patch(version: int) -> TestResponse:
        return client.patch(
            f"/api/v1/tickets/{tid}",
            json={"title": "打印机卡纸"},
            headers=world.headers(who, **{"If-Match": f'"{tid}-{version}"'}),
        )

    # A stale ETag: 412 would tell that a hidden ticket exists, so the tenancy check comes first.
    stale = patch(ticket["version"] + 7)
    response = patch(ticket["version"])
    if visible:
        assert stale.status_code == 412, stale.get_json()
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["title"] == "打印机卡纸"
        return
    _assert_hidden(stale, "ticket", tid)
    _assert_hidden(response, "ticket", tid)
    after = _as_admin(client, world, tid)
    assert (after["title"], after["version"]) == (ticket["title"], ticket["version"])


@pytest.mark.parametrize(("who", "place", "visible"), MATRIX)
def test_firing_a_transition(
    client: FlaskClient, world: World, other_world: World, who: str, place: str, visible: bool
) -> None:
    ticket = _open(client, world, other_world, place)
    tid = ticket["id"]
    trigger = TRIGGER.get(who, "acknowledge")
    response = client.post(
        f"/api/v1/tickets/{tid}/transitions",
        json={"trigger": trigger},
        headers=world.headers(who, **{"If-Match": f'"{tid}-{ticket["version"]}"'}),
    )
    if visible:
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["state"] == {"acknowledge": "acknowledged"}.get(
            trigger, "cancelled"
        )
        return
    _assert_hidden(response, "ticket", tid)
    after = _as_admin(client, world, tid)
    assert (after["state"], after["version"], after["assignee"]) == ("new", ticket["version"], None)
    assert len(_as_admin(client, world, tid, "/events")) == 1


@pytest.mark.parametrize(("who", "place", "visible"), MATRIX)
def test_commenting(
    client: FlaskClient, world: World, other_world: World, who: str, place: str, visible: bool
) -> None:
    tid = _open(client, world, other_world, place)["id"]
    response = client.post(
        f"/api/v1/tickets/{tid}/comments",
        json={"body": "请问什么时候能到？"},
        headers=world.headers(who),
    )
    if visible:
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["author"]["id"] == world.users[who]
        return
    _assert_hidden(response, "ticket", tid)
    assert _as_admin(client, world, tid, "/comments") == []


@pytest.mark.parametrize(("who", "place", "visible"), MATRIX)
def test_attaching_a_file(
    client: FlaskClient, world: World, other_world: World, who: str, place: str, visible: bool
) -> None:
    tid = _open(client, world, other_world, place)["id"]
    response = client.post(
        f"/api/v1/tickets/{tid}/attachments",
        data={"file": (io.BytesIO(b"error 0x1f at printer\n"), "printer.log")},
        headers=world.headers(who),
        content_type="multipart/form-data",
    )
    if visible:
        assert response.status_code == 201, response.get_json()
        return
    _assert_hidden(response, "ticket", tid)
    assert _as_admin(client, world, tid, "/attachments") == []


def test_a_hidden_attachment_is_not_found(
    client: FlaskClient, world: World, other_world: World
) -> None:
    tid = other_world.open_ticket(client)["id"]
    upload = client.post(
        f"/api/v1/tickets/{tid}/attachments",
        data={"file": (io.BytesIO(b"log\n"), "a.log")},
        headers=other_world.headers("agent"),
        content_type="multipart/form-data",
    )
    attachment_id = upload.get_json()["id"]
    for who in ("agent", "engineer", "manager", "requester"):
        response = client.get(
            f"/api/v1/tickets/{tid}/attachments/{attachment_id}", headers=world.headers(who)
        )
        _assert_hidden(response, "ticket", tid)


# Filing a ticket: for an institution one may not file for, the answer is that of an
# institution that does not exist (the id is in the body, so 422 on the field, not 404).

FILES_FOR: dict[str, set[str]] = {
    "agent": {"own", "second"},
    "engineer": {"own", "second"},
    "manager": {"own", "second"},
    "admin": {"own", "second", "other"},
    "requester": {"own"},
    "requester2": {"second"},
}


@pytest.mark.parametrize(
    ("who", "place", "allowed"),
    [
        pytest.param(who, place, place in FILES_FOR[who], id=f"{who}-{place}")
        for who in ROLES
        for place in PLACES
    ],
)
def test_filing_a_ticket_for_an_institution(
    client: FlaskClient, world: World, other_world: World, who: str, place: str, allowed: bool
) -> None:
    owner, institution_id = _institution(world, other_world, place)
    body = owner.ticket_body(institution_id=institution_id)
    response = client.post("/api/v1/tickets", json=body, headers=world.headers(who))
    count = client.get(
        "/api/v1/tickets",
        query_string={"institution_id": institution_id},
        headers=world.headers("admin"),
    ).get_json()["total"]
    if allowed:
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["institution"]["id"] == institution_id
        assert count == 1
        return
    unknown = client.post(
        "/api/v1/tickets",
        json=owner.ticket_body(institution_id=NO_SUCH_ID),
        headers=world.headers(who),
    )
    assert response.status_code == unknown.status_code == 422
    assert response.get_json()["code"] == unknown.get_json()["code"] == "invalid_input"
    assert response.get_json()["errors"] == unknown.get_json()["errors"]
    assert response.get_json()["message"] == unknown.get_json()["message"].replace(
        str(NO_SUCH_ID), str(institution_id)
    )
    assert count == 0


# Engineers: open tickets of their contracts, and whatever is assigned to them.


def _fire(client: FlaskClient, world: World, tid: int, trigger: str, **body: Any) -> None:
    response = world.fire(client, tid, trigger, **body)
    assert response.status_code == 200, response.get_json()


def _engineer_view(client: FlaskClient, world: World, who: str, tid: int, marker: str) -> bool:
    """Whether the engineer sees the ticket: by id and in the list, which must agree."""
    by_id = client.get(f"/api/v1/tickets/{tid}", headers=world.headers(who))
    listed = client.get(
        "/api/v1/tickets", query_string={"q": marker}, headers=world.headers(who)
    ).get_json()
    in_list = tid in {item["id"] for item in listed["items"]}
    if by_id.status_code == 404:
        _assert_hidden(by_id, "ticket", tid)
    else:
        assert by_id.status_code == 200
    assert in_list == (by_id.status_code == 200)
    return in_list


def test_engineers_see_every_open_ticket_of_their_contract(
    client: FlaskClient, world: World
) -> None:
    marker = f"open-{uuid.uuid4().hex[:10]}"
    tid = world.open_ticket(client, title=marker)["id"]
    _fire(client, world, tid, "dispatch", assignee_id=world.users["engineer"])
    assert _engineer_view(client, world, "engineer", tid, marker)
    assert _engineer_view(client, world, "engineer2", tid, marker)  # open, though not theirs


@pytest.mark.parametrize("final", ["resolved", "closed"])
def test_an_engineer_sees_a_finished_ticket_only_when_it_was_theirs(
    client: FlaskClient, world: World, final: str
) -> None:
    marker = f"done-{uuid.uuid4().hex[:10]}"
    tid = world.open_ticket(client, title=marker)["id"]
    _fire(client, world, tid, "acknowledge", assignee_id=world.users["engineer"])
    _fire(client, world, tid, "start_remote")
    _fire(client, world, tid, "resolve", note="重装打印机驱动")
    if final == "closed":
        _fire(client, world, tid, "close")
    assert _engineer_view(client, world, "engineer", tid, marker)
    assert not _engineer_view(client, world, "engineer2", tid, marker)
    for who in ("agent", "manager", "admin", "requester"):
        assert client.get(f"/api/v1/tickets/{tid}", headers=world.headers(who)).status_code == 200


def test_no_engineer_sees_a_cancelled_ticket_nobody_was_assigned(
    client: FlaskClient, world: World
) -> None:
    marker = f"cancel-{uuid.uuid4().hex[:10]}"
    tid = world.open_ticket(client, title=marker)["id"]
    _fire(client, world, tid, "cancel")
    for who in ("engineer", "engineer2"):
        assert not _engineer_view(client, world, who, tid, marker)
    assert client.get(f"/api/v1/tickets/{tid}", headers=world.headers("agent")).status_code == 200


def test_an_engineer_cannot_be_assigned_another_contracts_ticket(
    client: FlaskClient, world: World, other_world: World
) -> None:
    """So "assigned to them" never reaches outside their contracts through the API."""
    tid = other_world.open_ticket(client)["id"]
    response = other_world.fire(client, tid, "dispatch", assignee_id=world.users["engineer"])
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"assignee_id": ["not an engineer of this contract"]}
    assert (
        client.get(f"/api/v1/tickets/{tid}", headers=world.headers("engineer")).status_code == 404
    )


# The directory: institutions and contracts follow the same rules.


@pytest.mark.parametrize("who", ROLES)
def test_institutions_one_may_see(
    client: FlaskClient, world: World, other_world: World, who: str
) -> None:
    visible = {
        world.institution_id: "own" in FILES_FOR[who],
        world.second_institution_id: "second" in FILES_FOR[who],
        other_world.institution_id: "other" in FILES_FOR[who],
    }
    for institution_id, may in visible.items():
        response = client.get(f"/api/v1/institutions/{institution_id}", headers=world.headers(who))
        if may:
            assert response.status_code == 200
        else:
            _assert_hidden(response, "institution", institution_id)
    if who == "admin":  # all institutions there are: look at these contracts' only
        for owner in (world, other_world):
            listed = client.get(
                "/api/v1/institutions",
                query_string={"contract": owner.contract_code},
                headers=world.headers(who),
            ).get_json()
            assert {item["id"] for item in listed["items"]} == {
                owner.institution_id,
                owner.second_institution_id,
            }
        return
    listed = client.get(
        "/api/v1/institutions", query_string={"per_page": 200}, headers=world.headers(who)
    ).get_json()
    ids = {item["id"] for item in listed["items"]}
    assert ids == {i for i, may in visible.items() if may}
    assert listed["total"] == len(ids)


@pytest.mark.parametrize("who", ROLES)
def test_contracts_one_may_see(
    client: FlaskClient, world: World, other_world: World, who: str
) -> None:
    own = client.get(f"/api/v1/contracts/{world.contract_code}", headers=world.headers(who))
    other = client.get(f"/api/v1/contracts/{other_world.contract_code}", headers=world.headers(who))
    listed = {
        c["code"] for c in client.get("/api/v1/contracts", headers=world.headers(who)).get_json()
    }
    if who == "admin":
        assert own.status_code == other.status_code == 200
        assert {world.contract_code, other_world.contract_code} <= listed
        return
    assert own.status_code == 200
    assert other.status_code == 404
    assert other.get_json()["message"] == f"contract {other_world.contract_code} not found"
    assert listed == {world.contract_code}


@pytest.mark.parametrize("who", ["requester", "requester2"])
def test_a_requester_sees_only_themselves_among_users(
    client: FlaskClient, world: World, who: str
) -> None:
    listed = client.get("/api/v1/users", headers=world.headers(who)).get_json()
    assert [u["id"] for u in listed["items"]] == [world.users[who]]


def test_staff_see_only_the_people_of_their_contracts(
    client: FlaskClient, world: World, other_world: World
) -> None:
    listed = client.get(
        "/api/v1/users", query_string={"per_page": 200}, headers=world.headers("agent")
    ).get_json()
    ids = {u["id"] for u in listed["items"]}
    assert not ids & set(other_world.users.values())
    # Every person of the contract but the admin, who belongs to no contract.
    assert ids == {uid for name, uid in world.users.items() if name != "admin"}


def test_a_requester_does_not_see_internal_notes(client: FlaskClient, world: World) -> None:
    tid = world.open_ticket(client)["id"]
    for internal in (False, True):
        response = client.post(
            f"/api/v1/tickets/{tid}/comments",
            json={"body": f"internal={internal}", "internal": internal},
            headers=world.headers("agent"),
        )
        assert response.status_code == 201
    as_requester = client.get(f"/api/v1/tickets/{tid}/comments", headers=world.headers("requester"))
    assert [c["body"] for c in as_requester.get_json()] == ["internal=False"]
    as_engineer = client.get(f"/api/v1/tickets/{tid}/comments", headers=world.headers("engineer"))
    assert [c["body"] for c in as_engineer.get_json()] == ["internal=False", "internal=True"]
