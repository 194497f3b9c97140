"""The pages' message catalogue: every message of the code and templates is translated to
Chinese, and the committed .mo is the compiled .po (so a fresh `pip install -e .` has it)."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "itsm" / "translations" / "zh" / "LC_MESSAGES"


def _source_messages() -> set[str]:
    method_map = [("itsm/web/**.py", "python"), ("templates/web/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_page_message_has_a_chinese_translation() -> None:
    with open(CATALOGUE / "messages.po", "rb") as f:
        po = read_po(f)
    translated = {m.id for m in po if m.id and m.string and not m.fuzzy}
    missing = sorted(_source_messages() - translated)
    assert missing == [], f"untranslated (run `make catalog` and translate): {missing}"


def test_the_committed_mo_is_the_compiled_po() -> None:
    with open(CATALOGUE / "messages.po", "rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id and m.string and not m.fuzzy}
    with open(CATALOGUE / "messages.mo", "rb") as f:
        mo = {m.id: m.string for m in read_mo(io.BytesIO(f.read())) if m.id}
    assert mo == po, "the .mo is stale: run `make catalog`"
