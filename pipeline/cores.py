"""Independent pieces of work spread over the machine's cores (two at most), shared by every stage.

A stage with independent pieces of work (two tables, a source's columns) hands them to `spread`.
The calling thread works through them itself, and a helper thread joins in while a core is free.
A core is free while fewer threads are at work than LIMIT. The main thread counts as one, each
helper as one, and a thread waiting for a piece another thread is working on stops counting while
it waits.

A free core goes wherever work is waiting. A thread that runs out of work of its own (a helper
whose spread is finished, a caller waiting for a piece) takes a piece of any other spread in
progress, nested ones included. So when one of two tables is done, its thread helps with the
other table's columns instead of idling while the first core finishes the bigger table alone.
No helper is started while LIMIT threads are at work, whatever the nesting (the Parquet writers
count, `at_work`). A thread back from waiting goes on at once, so beside a writer there may
briefly be one thread more at work. Each spread holds at most its window of pieces, so memory
stays that of a few pieces at a time.

Results come in the pieces' order. Each piece is run once, by one thread. The outcome is that of
a plain loop as long as the pieces change nothing they share. Which thread runs a piece never
changes what it gives.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

LIMIT = min(2, os.cpu_count() or 1)  # threads at work at once (numpy, pandas and Arrow let go of the GIL)
WINDOW = 2  # pieces of one spread taken and not yet given to its caller: memory for two at most

_state = threading.Condition()
_busy = [1]  # threads at work: the main thread, then the helpers (changed under _state)
_open: list["_Spread"] = []  # spreads in progress, oldest first
_counted = threading.local()  # whether this thread is one of _busy (the main thread and helpers)


def _is_counted() -> bool:
    return getattr(_counted, "value", threading.current_thread() is threading.main_thread())


class _Spread:
    def __init__(self, function: Callable, items: Iterable, window: int):
        self.function, self.items, self.window = function, iter(items), window
        self.pull = threading.Lock()  # one taker at a time: the items are pulled in order
        self.taken = 0  # pieces handed out (their indexes are 0 .. taken - 1)
        self.given = 0  # results given to the caller, in order
        self.done: dict[int, tuple] = {}  # index -> (item, result), not yet given
        self.running = 0  # pieces at work
        self.errors: dict[int, BaseException] = {}  # index -> what the piece raised
        self.closed = False  # no piece is handed out any more: all taken, failed or abandoned
        self.pulling = False  # an item is being made (`take`): none is handed out meanwhile

    def has_room(self) -> bool:  # (under _state)
        return not self.closed and not self.pulling and self.taken - self.given < self.window

    def take(self) -> tuple[int, object] | None:
        """(index, item) of the next piece, now counted as running; None when there is none to take.
        Making the item (`next`) may itself spread work; meanwhile this spread has no room, so no
        thread waits here for the pull (not even the one making it, were it to help)."""
        with self.pull:
            with _state:
                if not self.has_room():
                    return None
                self.pulling = True
            try:
                item = next(self.items)  # (outside _state: making an item may take time)
            except StopIteration:
                with _state:
                    self.pulling, self.closed = False, True
                    _state.notify_all()
                return None
            except BaseException as error:
                with _state:
                    self.pulling, self.closed = False, True
                    self.errors[self.taken] = error
                    _state.notify_all()
                return None
            with _state:
                self.pulling = False
                _state.notify_all()
                if self.closed:  # (a piece failed meanwhile: no piece starts after an error)
                    return None
                index, self.taken, self.running = self.taken, self.taken + 1, self.running + 1
            return index, item

    def run(self, index: int, item: object) -> None:
        """Work on one piece, in whichever thread; an error stops the spread and reaches its caller.
        Ctrl-C (and other non-Exception errors) also goes on up in the thread it happened in."""
        try:
            outcome = (item, self.function(item))
        except BaseException as error:
            with _state:
                self.running -= 1
                self.errors[index], self.closed = error, True
                _state.notify_all()
            if not isinstance(error, Exception):
                raise
            return
        with _state:
            self.running -= 1
            self.done[index] = outcome
            _state.notify_all()


def _takeable() -> _Spread | None:
    """A spread in progress with a piece to hand out, the newest first (under _state): the
    newest are nested in the pieces being worked on, whose end the whole stage waits for."""
    return next((spread for spread in reversed(_open) if spread.has_room()), None)


def _work_on(spread: _Spread) -> None:
    """The spread's next piece, if it still has one to hand out."""
    job = spread.take()
    if job is not None:
        spread.run(*job)


def _leave() -> None:
    """One thread fewer at work; whoever waits for a core (or for a piece) is told."""
    with _state:
        _busy[0] -= 1
        _state.notify_all()


def _help() -> None:
    """A helper thread: pieces of any spread in progress, until there is none to take."""
    _counted.value = True
    try:
        while True:
            with _state:
                spread = _takeable()
            if spread is None:
                return
            _work_on(spread)
    finally:
        _leave()


def _call_helper() -> None:
    """Start a helper when a core is free and some spread has a piece to hand out. When no thread
    can be started (a process at its limit), the work goes on without one."""
    with _state:
        if _busy[0] >= LIMIT or _takeable() is None:
            return
        _busy[0] += 1
    try:
        threading.Thread(target=_help, name="cores-helper", daemon=True).start()
    except BaseException as error:
        with _state:
            _busy[0] -= 1
        if not isinstance(error, RuntimeError):  # (Ctrl-C goes on up)
            raise


def _wait_for(ready: Callable[[], bool]) -> None:
    """Wait until `ready()` (checked under _state), working on other spreads' pieces meanwhile
    while a core is free. The waiting thread does not count as at work."""
    counted = _is_counted()
    if counted:
        _leave()
    try:
        while True:
            with _state:
                if ready():
                    return
                spread = _takeable() if _busy[0] < LIMIT else None
                if spread is None:
                    _state.wait()
                    continue
                _busy[0] += 1
            try:
                _work_on(spread)
            finally:
                _leave()
    finally:
        if counted:
            with _state:
                _busy[0] += 1


def spread(function: Callable, items: Iterable, threads: bool = True, window: int = WINDOW) -> Iterator[tuple[object, object]]:
    """(item, function(item)) for each item, in the items' order, the work spread over the free
    cores (see the module). An item is taken from `items` only when a thread is about to work on
    it, and at most `window` items are held at a time (running or waiting to be given back), so
    a lazy iterator of big pieces keeps memory for that many. `threads=False`: a plain loop. An
    error is raised here once the pieces at work have finished: the first failing piece's in
    the items' order; no piece starts after an error (or after the caller stops iterating)."""
    if not threads or LIMIT < 2:
        for item in items:
            yield item, function(item)
        return
    work = _Spread(function, items, window)
    with _state:
        _open.append(work)
        _state.notify_all()
    try:
        while True:
            with _state:
                outcome = work.done.pop(work.given, None)
                if outcome is not None:
                    work.given += 1
                    _state.notify_all()  # (a slot of the window is free)
                elif work.errors:
                    break
                elif work.closed and work.running == 0:
                    return
            if outcome is not None:
                yield outcome
                continue
            _call_helper()  # (before taking: nothing is taken when no helper can be started)
            job = work.take()
            if job is not None:
                work.run(*job)
                continue
            # The next result is another thread's piece (or the window is full until it is given).
            _wait_for(lambda: work.given in work.done or bool(work.errors)
                      or (work.closed and work.running == 0))
    finally:
        with _state:
            work.closed = True
            _open.remove(work)
            _state.notify_all()
            while work.running:  # pieces at work elsewhere finish before the caller goes on
                _state.wait()
    # The failing piece first in the items' order, as a plain loop would have raised (a later
    # piece may have failed first on the other thread).
    raise work.errors[min(work.errors)]


@contextmanager
def at_work() -> Iterator[None]:
    """Count the calling thread as at work while in the block: for threads of other pools (the
    Parquet writers), so that no helper is started for a core they are using, and one is as
    soon as they let it go (when some spread has a piece waiting)."""
    if _is_counted():
        yield
        return
    with _state:
        _busy[0] += 1
    try:
        yield
    finally:
        _leave()
        _call_helper()


def each(function: Callable, items: Iterable, threads: bool = True) -> list:
    """[function(item) for item in items], spread over the free cores (`spread`)."""
    return [result for _, result in spread(function, items, threads)]
