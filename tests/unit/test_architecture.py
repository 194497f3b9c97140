"""The rules of DESIGN.md that code review alone would let slip: the direction of imports, and
trigger names written only where a workflow is declared and where the pages label it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from itsm.services import notices
from itsm.web import labels
from workflows import ticket

ROOT = Path(__file__).resolve().parents[2]
PURE = ("workflows", "sla_rules", "notifications")
INFRASTRUCTURE = ("itsm", "flask", "sqlalchemy", "redis", "rq", "flask_smorest", "marshmallow")
WORKFLOWS = (ticket.WORKFLOW,)


def python_files(*folders: str) -> Iterator[Path]:
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def imported_modules(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


@pytest.mark.parametrize("package", PURE)
def test_the_pure_core_imports_no_infrastructure(package: str) -> None:
    offending = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in python_files(package)
        for module in imported_modules(path)
        if module.split(".")[0] in INFRASTRUCTURE
    ]
    assert offending == []


def test_services_import_neither_the_api_nor_the_pages() -> None:
    offending = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in python_files("itsm/services", "itsm/jobs")
        for module in imported_modules(path)
        if module.startswith(("itsm.api", "itsm.web"))
    ]
    assert offending == []


def test_trigger_names_are_written_only_in_workflows_and_the_label_catalogue() -> None:
    triggers = {t for workflow in WORKFLOWS for t in workflow.triggers}
    allowed = {ROOT / "itsm" / "web" / "labels.py"}
    offending = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}"
        for path in python_files("itsm")
        if path not in allowed and "migrations" not in path.parts
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value in triggers
    ]
    assert offending == []


def test_every_emitted_event_is_in_the_catalogue_with_a_label() -> None:
    for workflow in WORKFLOWS:
        for event in workflow.event_names():
            assert event in notices.EVENTS
            assert event in notices.DEFAULTS["events"]
            assert event in labels.NOTIFICATION_EVENTS


def test_periodic_jobs_have_stable_unique_ids_and_real_functions() -> None:
    from itsm.jobs import PERIODIC, QUEUES, function_at

    assert len({job.id for job in PERIODIC}) == len(PERIODIC)
    for job in PERIODIC:
        assert callable(function_at(job.function)) and job.queue in QUEUES and job.seconds > 0


def test_every_process_cache_is_named_in_one_place_and_cleared_by_one_call() -> None:
    from itsm import caches
    from itsm.api import auth
    from itsm.services import sla, tickets

    assert {"api-tokens", "calendars", "sla-policies", "ticket-context-queries"} <= set(
        caches.described()
    )
    auth._token_cache["token"] = (0.0, None)  # type: ignore[assignment]
    sla._parsed[(0, 0, 0, None)] = None  # type: ignore[index, assignment]
    caches.clear_all()
    assert auth._token_cache == {} and sla._parsed == {}
    assert tickets._context_query.cache_info().currsize == 0
