"""Reports render in a job, with no request and no locale, so their Chinese words are their
own: the same as the pages' catalogue, for every state, kind and result there is. And a
contract's own report template is found by the one loader of its terms."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from itsm.app import create_app
from itsm.inspections.reports import words
from itsm.web import labels
from sla_rules.contracts import shipped_template
from sla_rules.inspections import CheckResult, ObligationKind
from workflows import inspection, ticket


def test_the_reports_words_are_the_pages_chinese_words() -> None:
    assert set(words.STATES) == set(inspection.STATES)
    assert set(words.KINDS) == {kind.value for kind in ObligationKind}
    assert set(words.CHECK_RESULTS) == {result.value for result in CheckResult}
    assert set(words.TICKET_STATES) == set(ticket.STATES)
    app = create_app(database_url="sqlite://")
    with app.test_request_context(), force_locale("zh_CN"):
        for ours, pages in (
            (words.STATES, labels.INSPECTION_STATES),
            (words.KINDS, labels.OBLIGATION_KINDS),
            (words.CHECK_RESULTS, labels.CHECK_RESULTS),
            (words.TICKET_STATES, labels.STATES),
        ):
            assert {key: str(pages[key]) for key in ours} == ours


def test_a_contract_ships_its_own_report_form_or_none() -> None:
    c3 = shipped_template("C3", "inspection_report.html")
    assert c3 is not None and "医院信息系统季度巡检报告" in c3 and "公司盖章" in c3
    assert shipped_template("C1", "inspection_report.html") is None
    assert shipped_template("../C3", "inspection_report.html") is None
    with pytest.raises(KeyError):
        shipped_template("C3", "sla.json")
