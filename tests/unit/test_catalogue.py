"""The pages' message catalogue: every message of the code and templates is translated to
Chinese, and the committed .mo is the compiled .po (so a fresh `pip install -e .` has it)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "itsm" / "translations" / "zh" / "LC_MESSAGES"


def _source_messages() -> set[str]:
    method_map = [
        ("itsm/web/**.py", "python"),
        ("itsm/*/pages.py", "python"),
        ("itsm/*/pages/**.py", "python"),
        ("templates/web/**.html", "jinja2"),
    ]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _translated(messages: Any) -> dict[str, tuple[str, ...]]:
    """Each translated message by its (singular) id, its strings as a tuple (plural forms)."""
    found = {}
    for m in messages:
        ids = m.id if isinstance(m.id, tuple | list) else (m.id,)
        strings = tuple(m.string) if isinstance(m.string, tuple | list) else (m.string,)
        if ids[0] and all(strings) and not m.fuzzy:
            found[ids[0]] = strings
    return found


def test_every_page_message_has_a_chinese_translation() -> None:
    with open(CATALOGUE / "messages.po", "rb") as f:
        translated = _translated(read_po(f))
    missing = sorted(_source_messages() - set(translated))
    assert missing == [], f"untranslated (run `make catalog` and translate): {missing}"


def test_the_committed_mo_is_the_compiled_po() -> None:
    with open(CATALOGUE / "messages.po", "rb") as f:
        po = _translated(read_po(f))
    with open(CATALOGUE / "messages.mo", "rb") as f:
        mo = _translated(read_mo(io.BytesIO(f.read())))
    assert mo == po, "the .mo is stale: run `make catalog`"
