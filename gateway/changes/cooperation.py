"""Giving way: long work on a gevent worker lets the other requests run now and then."""

from __future__ import annotations

import gevent
import gevent.monkey


def give_way() -> None:
    """Between steps of work that may take seconds (a first graph of many workloads, a change that
    concerns thousands of holders), let the other requests on this worker run, probes above all.
    A greenlet must give way by itself (a switch, a few microseconds); threads are switched by the
    interpreter, and a real sleep(0) would cost a timer's slack (50 µs or more) a step, so they are
    left alone."""
    if gevent.monkey.is_module_patched("time"):
        gevent.sleep(0)
