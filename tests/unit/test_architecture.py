"""The rules of DESIGN.md that code review alone would let slip: the direction of imports, and
trigger names written only where a workflow is declared and where the pages label it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from itsm.areas import AREAS, attribute
from itsm.notify.services import notices
from itsm.web import labels
from workflows import inspection, ticket

ROOT = Path(__file__).resolve().parents[2]
PURE = ("workflows", "sla_rules", "notifications")
INFRASTRUCTURE = ("itsm", "flask", "sqlalchemy", "redis", "rq", "flask_smorest", "marshmallow")
WORKFLOWS = (ticket.WORKFLOW, inspection.WORKFLOW)


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


def is_web_facing(module: str) -> bool:
    """The API, the pages and the providers' callbacks: of the platform or of an area."""
    parts = module.split(".")
    return parts[0] == "itsm" and bool({"api", "web", "pages", "hooks"} & set(parts[1:3]))


def test_no_area_s_services_or_jobs_import_the_api_or_the_pages() -> None:
    areas = [area.name for area in AREAS]
    code = [f"itsm/{name}/services" for name in areas] + ["itsm/jobs"]
    jobs = [ROOT / "itsm" / name / "jobs.py" for name in areas]
    offending = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in [*python_files(*code), *(path for path in jobs if path.exists())]
        for module in imported_modules(path)
        if is_web_facing(module)
    ]
    assert offending == []


def test_the_check_of_web_facing_modules_would_catch_one() -> None:
    assert is_web_facing("itsm.tickets.api") and is_web_facing("itsm.tickets.pages.hotline")
    assert is_web_facing("itsm.api.base") and is_web_facing("itsm.web.common")
    assert is_web_facing("itsm.notify.hooks")
    assert not is_web_facing("itsm.tickets.services.tickets") and not is_web_facing("itsm.db")


def test_every_area_has_the_same_layout_and_the_app_serves_what_it_declares() -> None:
    from itsm.app import create_app

    app = create_app(database_url="sqlite://")
    for area in AREAS:
        package = ROOT / "itsm" / area.name
        assert (package / "models.py").exists() and (package / "services").is_dir()
        assert area.models == f"itsm.{area.name}.models"
        for reference in area.api + area.pages:
            assert reference.startswith(f"itsm.{area.name}.")
            assert attribute(reference).name in app.blueprints
    assert not (ROOT / "itsm" / "services").exists()


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
    from itsm.accounts.services import tokens
    from itsm.sla.services import sla
    from itsm.tickets.services import tickets

    assert {"api-tokens", "calendars", "sla-policies", "ticket-context-queries"} <= set(
        caches.described()
    )
    tokens._cache["token"] = (0.0, None, None)  # type: ignore[assignment]
    sla._parsed[(0, 0, 0, None)] = None  # type: ignore[index, assignment]
    caches.clear_all()
    assert tokens._cache == {} and sla._parsed == {}
    assert tickets._context_query.cache_info().currsize == 0
