"""The rate limit of dwebsocket_c.refusals, with a clock of the test's own
(test_handshake_refusals checks the log lines of real servers)."""

import logging

from dwebsocket_c.refusals import RefusalLog, printable, quoted


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def make_log(caplog, interval=10.0):
    caplog.set_level(logging.DEBUG, logger="dwebsocket_c.test_refusals")
    clock = Clock()
    log = RefusalLog(logging.getLogger("dwebsocket_c.test_refusals"), interval, clock)
    return log, clock


def test_one_line_per_reason_per_interval_then_the_count_of_the_others(caplog):
    log, clock = make_log(caplog)
    assert log.refused("origin", logging.WARNING, "refused %s", "first")
    for i in range(49):
        clock.now += 0.1
        assert not log.refused("origin", logging.WARNING, "refused %s", i)
    assert [r.getMessage() for r in caplog.records] == ["refused first"]
    clock.now = 1010.0  # 10 s after the first line
    assert log.refused("origin", logging.WARNING, "refused %s", "again")
    assert len(caplog.records) == 2
    second = caplog.records[1].getMessage()
    assert second.startswith("refused again [49 more refusals for the same reason were not logged since ")
    clock.now = 1030.0  # nothing left out meanwhile: no count
    assert log.refused("origin", logging.WARNING, "refused %s", "third")
    assert caplog.records[2].getMessage() == "refused third"


def test_reasons_are_limited_separately_and_keep_their_level(caplog):
    log, clock = make_log(caplog)
    assert log.refused("origin", logging.WARNING, "403")
    assert log.refused("host", logging.WARNING, "400")
    assert log.refused("unsupported-server", logging.ERROR, "501")
    assert not log.refused("host", logging.WARNING, "400 again")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "403"), (logging.WARNING, "400"), (logging.ERROR, "501")]


def test_client_text_cannot_forge_log_lines():
    assert printable("a\r\nWARNING forged") == "a\\r\\nWARNING forged"
    assert quoted(None) == "(none)"
    assert quoted("http://x") == "'http://x'"
    long = "x" * 5000
    assert printable(long) == "x" * 200 + "... (5000 characters)"
