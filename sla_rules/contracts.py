"""A contract's terms as data, shipped with the service: `sla_rules/contracts/<code>/` holds
its SLA policy (`sla.json`) and, as their workflows come, its inspection plan, escalation
policy, change rules and scorecard. One loader for all of them; each part is validated by the
module that reads it, with paths into the document in its errors, as SLA policies are. Beside
them a contract may ship the templates of its own documents (`inspection_report.html`: C3's
quarterly report on the hospital's form)."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

PARTS = ("sla", "inspections")
"""The parts of a contract's terms the service reads (a file `<part>.json` each)."""
TEMPLATES = ("inspection_report.html", "inspection_sheet.html")
"""The documents a contract may lay out its own way: the quarterly inspection report and
one inspection's report."""
_CONTRACT_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")


def shipped_terms(contract_code: str, part: str) -> dict[str, Any]:
    """One part of the terms shipped for a contract; KeyError when none is shipped."""
    if part not in PARTS:
        raise KeyError(f"no part {part!r} of a contract's terms; known: {', '.join(PARTS)}")
    if not isinstance(contract_code, str) or not _CONTRACT_CODE.fullmatch(contract_code):
        raise KeyError(f"no shipped {part} terms for contract {contract_code!r}")
    resource = resources.files("sla_rules").joinpath("contracts", contract_code, f"{part}.json")
    if not resource.is_file():
        raise KeyError(f"no shipped {part} terms for contract {contract_code!r}")
    document: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return document


def shipped_contracts() -> list[str]:
    """The codes of the contracts whose terms are shipped."""
    folder = resources.files("sla_rules").joinpath("contracts")
    return sorted(entry.name for entry in folder.iterdir() if entry.is_dir())


def shipped_template(contract_code: str, name: str) -> str | None:
    """The text of a contract's own template `name` (one of TEMPLATES), or None when the
    contract ships none and the default layout applies."""
    if name not in TEMPLATES:
        raise KeyError(f"no contract template {name!r}; known: {', '.join(TEMPLATES)}")
    if not isinstance(contract_code, str) or not _CONTRACT_CODE.fullmatch(contract_code):
        return None
    resource = resources.files("sla_rules").joinpath("contracts", contract_code, name)
    if not resource.is_file():
        return None
    return resource.read_text(encoding="utf-8")
