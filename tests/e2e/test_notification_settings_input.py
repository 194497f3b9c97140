"""Hostile values in a contract's notification settings and contacts
(`PUT /api/v1/contracts/<code>/notifications`): a 4xx that names the field, never a 500,
and the settings exactly as they were."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.test_bad_input import assert_actionable_error
from tests.factories import World

JSON = "application/json"


def _url(world: World) -> str:
    return f"/api/v1/contracts/{world.contract_code}/notifications"


def _put(client: FlaskClient, world: World, body: Any, raw: bool = False) -> Any:
    headers = {**world.headers("admin"), "If-Match": "*"}
    if raw:
        return client.put(_url(world), data=body, content_type=JSON, headers=headers)
    return client.put(_url(world), json=body, headers=headers)


def _contacts(**people: Any) -> dict[str, Any]:
    return {"settings": {}, "contacts": people}


CASES: dict[str, tuple[Any, str]] = {
    "NUL in a contact's name": (_contacts(on_duty=["engineer\x00"]), "on_duty"),
    "escape in a contact's name": (_contacts(supervisor=["\x1b[31mboss"]), "supervisor"),
    "DEL in a contact's name": (_contacts(project_manager=["pm\x7f"]), "project_manager"),
    "an empty name": (_contacts(on_duty=[""]), "on_duty"),
    "a name of 65 characters": (_contacts(on_duty=["e" * 65]), "on_duty"),
    "a name of 100k characters": (_contacts(on_duty=["e" * 100_000]), "on_duty"),
    "a name as a number": (_contacts(on_duty=[123]), "on_duty"),
    "a name as null": (_contacts(on_duty=[None]), "on_duty"),
    "a name as a list": (_contacts(on_duty=[["a"]]), "on_duty"),
    "contacts not a list": (_contacts(on_duty="engineer"), "on_duty"),
    "an unknown duty": (_contacts(janitor=["x"]), "janitor"),
    "contacts as null": ({"settings": {}, "contacts": None}, "contacts"),
    "NUL in an event's name": ({"settings": {"events": {"sla\x00": []}}, "contacts": {}}, "events"),
    "NUL in an audience": (
        {"settings": {"events": {"sla_breach": ["assignee\x00"]}}, "contacts": {}},
        "events",
    ),
    "NUL in the robot key": ({"settings": {"robot_key": "abcdefgh\x00"}, "contacts": {}}, "robot"),
    "NUL in the language": ({"settings": {"lang": "zh\x00"}, "contacts": {}}, "lang"),
    "minutes of 10**30": (
        {"settings": {"wechat_fallback_minutes": 10**30}, "contacts": {}},
        "wechat_fallback_minutes",
    ),
    "NUL in a priority": (
        {"settings": {"fallback_priorities": ["P1\x00"]}, "contacts": {}},
        "fallback_priorities",
    ),
}
RAW: dict[str, tuple[str, str]] = {
    "a lone surrogate in a name": (
        '{"settings": {}, "contacts": {"on_duty": ["\\ud800x"]}}',
        "on_duty",
    ),
    "a lone low surrogate in a name": (
        '{"settings": {}, "contacts": {"supervisor": ["boss\\udfff"]}}',
        "supervisor",
    ),
    "minutes of 1e400": ('{"settings": {"wechat_fallback_minutes": 1e400}, "contacts": {}}', ""),
    "nested 10000 deep": ('{"settings": {}, "contacts": ' + "[" * 10_000 + "]" * 10_000 + "}", ""),
}


@pytest.mark.parametrize(("body", "mention"), CASES.values(), ids=CASES.keys())
def test_a_hostile_value_is_refused_and_changes_nothing(
    client: FlaskClient, world: World, body: Any, mention: str
) -> None:
    before = client.get(_url(world), headers=world.headers("admin"))
    response = _put(client, world, body)
    assert_actionable_error(response, 422, "invalid_input", mention)
    after = client.get(_url(world), headers=world.headers("admin"))
    assert after.get_json() == before.get_json()


@pytest.mark.parametrize(("text", "mention"), RAW.values(), ids=RAW.keys())
def test_a_hostile_body_is_refused_and_changes_nothing(
    client: FlaskClient, world: World, text: str, mention: str
) -> None:
    before = client.get(_url(world), headers=world.headers("admin")).get_json()
    response = _put(client, world, text, raw=True)
    assert 400 <= response.status_code < 500, response.get_json()
    assert_actionable_error(response, response.status_code, response.get_json()["code"], mention)
    assert client.get(_url(world), headers=world.headers("admin")).get_json() == before


NAMES = st.text(st.characters(exclude_categories=[]), max_size=80) | st.sampled_from(
    ["\x00", "\ud800", "٣", "１２３", "engineer", " ", "a" * 64, "a" * 65]
)


def test_any_contact_name_is_a_200_or_a_plain_422(client: FlaskClient, world: World) -> None:
    """Generated names, lone surrogates and control characters included: a name of no member
    of staff is refused with a message, never a 500, and nothing is written."""
    before = client.get(_url(world), headers=world.headers("admin")).get_json()

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        duty=st.sampled_from(["on_duty", "supervisor", "project_manager"]),
        names=st.lists(NAMES, max_size=3),
    )
    def send(duty: str, names: list[str]) -> None:
        body = json.dumps(_contacts(**{duty: names}), ensure_ascii=True)  # lone surrogates too
        response = _put(client, world, body, raw=True)
        assert response.status_code in (200, 422), (names, response.get_data(as_text=True))
        if response.status_code == 422:
            assert_actionable_error(response, 422, "invalid_input", None)
            assert client.get(_url(world), headers=world.headers("admin")).get_json() == before

    send()
