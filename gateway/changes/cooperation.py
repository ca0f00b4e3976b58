"""Giving way: long work on a gevent worker lets the other requests run now and then; and the
cyclic garbage collector waits while one batch of long work allocates."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import gevent
import gevent.monkey


class _Pause:
    """How many blocks have the collector off now, and whether it was on before the first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.was_on = True


_PAUSE = _Pause()


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for a block that allocates many objects that outlive it (pieces of
    a graph and the memos behind them): otherwise each full collection walks all the block has kept
    so far, and a 10,000-workload batch spends half its time there. Nested and concurrent blocks
    count; the collector is on again when the last one ends, if it was on before the first."""
    with _PAUSE.lock:
        if _PAUSE.depth == 0:
            _PAUSE.was_on = gc.isenabled()
            gc.disable()
        _PAUSE.depth += 1
    try:
        yield
    finally:
        with _PAUSE.lock:
            _PAUSE.depth -= 1
            if _PAUSE.depth == 0 and _PAUSE.was_on:
                gc.enable()


GIVE_WAY_SECONDS = 1e-5
"""Long enough to be a timer (the loop then polls for I/O before resuming), short enough to cost nothing."""


def give_way() -> None:
    """Between steps of work that may take seconds (a first graph of many workloads, a change that
    concerns thousands of holders), let the other requests on this worker run, probes above all.
    A greenlet must give way by itself: a sleep for a moment, not `sleep(0)`, which may resume it
    before the loop polls for I/O (gevent's docs say so, and a probe waited out a whole graph of
    fifteen such steps); threads are switched by the interpreter, and a real sleep would cost a
    timer's slack (50 µs or more) a step, so they are left alone."""
    if gevent.monkey.is_module_patched("time"):
        gevent.sleep(GIVE_WAY_SECONDS)
