"""RFC 6455 conformance of the echo view under every server (Autobahn groups).

The cases live in ``conformance_cases.py``; the raw client in
``conformance_client.py``; the batch runner and the summary table in
``conftest.py``. One test per (server, case): its id is
``test_conformance[<server>-<case id>]``.
"""

import pytest


def test_conformance(conformance_case, conformance_pool, record_property):
    server, case = conformance_case
    outcome, error, seconds = conformance_pool.result(server, case)
    if error is not None:
        pytest.fail(f"[{server}] case {case.id}: {case.doc}\n{error}", pytrace=False)
    record_property("conformance_mode", outcome.mode)
    if outcome.figures:
        record_property("conformance_figures", outcome.figures)
    if outcome.notes:
        record_property("conformance_notes", outcome.notes)
