"""Inspection reports (C1-10's findings-and-advice report of each occurrence, C3-6's quarterly
report per contract): `data` reads what they say into `contents` (plain values, in the
Chinese `words`) with queries of its own that write nothing; `document` lays them out as HTML
and PDF (WeasyPrint, Noto CJK), `workbook` as XLSX (openpyxl). They are rendered by a job
(`itsm.inspections.jobs.render_report`), never in a request."""
