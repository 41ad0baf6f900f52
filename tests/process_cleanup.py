"""Stopping what a test's runs left running: every owner and script process, by pid + create time (never by
name), with their children. One helper for every test folder (importable because tests/ holds conftest.py)."""

from __future__ import annotations

import os
import signal

import psutil

from runtui.execution.process_tree import ProcessIdentity, signal_process
from runtui.store import Store


def kill_leftover_processes(store: Store) -> None:
    idents: list[ProcessIdentity] = []
    for rec in store.query_runs():
        for pid, created in ((rec.owner_pid, rec.owner_create_time), (rec.pid, rec.pid_create_time)):
            if pid is not None and created is not None and pid != os.getpid():
                ident = ProcessIdentity(pid, created)
                if ident.is_alive():
                    idents.append(ident)
    for ident in idents:
        try:
            for child in psutil.Process(ident.pid).children(recursive=True):
                child.kill()
        except psutil.Error:
            pass
        signal_process(ident, signal.SIGKILL)
