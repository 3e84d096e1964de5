"""pipeline.cores: pieces of work spread over two cores, in order, each run once, with idle
threads helping other spreads (nested ones included) and never more than LIMIT at work."""

from __future__ import annotations

import threading
import time

import pytest

from pipeline import cores


@pytest.fixture(autouse=True)
def two_cores(monkeypatch):
    monkeypatch.setattr(cores, "LIMIT", 2)  # (two threads on a one-core machine too)
    yield
    deadline = time.monotonic() + 5  # (a helper that found nothing more to do may still be leaving)
    while cores._busy != [1] and time.monotonic() < deadline:
        time.sleep(0.001)
    assert cores._busy == [1] and cores._open == []  # every spread and helper accounted for


def test_results_come_in_order_and_each_piece_runs_once():
    ran = []

    def slow_square(x):
        time.sleep(0.001 * (x % 3))
        ran.append(x)
        return x * x

    assert cores.each(slow_square, list(range(40))) == [x * x for x in range(40)]
    assert sorted(ran) == list(range(40))
    assert list(cores.spread(slow_square, iter(range(5)))) == [(x, x * x) for x in range(5)]
    assert cores.each(slow_square, []) == []


def test_a_second_thread_works_when_a_core_is_free_and_none_without_threads():
    seen = set()
    both = threading.Barrier(2, timeout=10)

    def piece(x):
        seen.add(threading.current_thread().name)
        if x < 2:
            both.wait()  # the two first pieces run at once, or this times out
        return x

    assert cores.each(piece, range(6)) == list(range(6))
    assert len(seen) == 2
    seen.clear()
    assert cores.each(lambda x: seen.add(threading.current_thread().name) or x, range(6), threads=False) == list(range(6))
    assert seen == {threading.current_thread().name}


def test_never_more_threads_at_work_than_the_limit_even_nested():
    lock = threading.Lock()
    at_work, most = [0], [0]

    def leaf(x):
        with lock:
            at_work[0] += 1
            most[0] = max(most[0], at_work[0])
        time.sleep(0.002)
        with lock:
            at_work[0] -= 1
        return x

    def branch(x):
        # (the branch's own thread waits, not working, while its leaves run elsewhere)
        return sum(cores.each(leaf, range(x, x + 8)))

    assert cores.each(branch, range(0, 40, 8)) == [sum(range(x, x + 8)) for x in range(0, 40, 8)]
    assert most[0] == 2


def test_an_idle_thread_helps_with_another_spreads_pieces():
    """One table has a nested spread whose first piece can only finish once the second has run
    elsewhere: the thread done with the other table takes that second piece."""
    second_ran = threading.Event()
    where = {}

    def column(x):
        if x == 0:
            where["first"] = threading.current_thread()
            assert second_ran.wait(timeout=10), "nobody helped"
        else:
            where["second"] = threading.current_thread()
            second_ran.set()
        return x

    def table(name):
        if name == "big":
            return cores.each(column, [0, 1])
        return name

    assert cores.each(table, ["big", "small"]) == [[0, 1], "small"]
    assert where["second"] is not where["first"]


def test_items_are_taken_lazily_at_most_a_window_ahead():
    pulled, given = [0], [0]
    ahead = []

    def items():
        for x in range(30):
            pulled[0] += 1
            ahead.append(pulled[0] - given[0])
            yield x

    for x, result in cores.spread(lambda x: x + 1, items(), window=3):
        assert result == x + 1
        given[0] += 1
    assert pulled[0] == 30 and max(ahead) <= 3


def test_the_first_error_is_raised_after_the_running_pieces_and_nothing_starts_after_it():
    started = []
    lock = threading.Lock()

    def piece(x):
        with lock:
            started.append(x)
        if x == 3:
            raise ValueError("bad piece 3")
        time.sleep(0.005)
        return x

    with pytest.raises(ValueError, match="bad piece 3"):
        cores.each(piece, range(100))
    assert len(started) <= 3 + 1 + cores.WINDOW  # none long after the failing one
    with pytest.raises(ZeroDivisionError):
        cores.each(lambda x: 1 / x, [1, 0, 2], threads=False)


def test_a_caller_that_stops_early_leaves_nothing_running():
    ran = []
    for x, _ in cores.spread(lambda x: ran.append(x) or x, range(100)):
        if x == 5:
            break
    count = len(ran)
    time.sleep(0.02)
    assert len(ran) == count <= 5 + 1 + cores.WINDOW


def test_no_helper_while_another_pools_thread_is_at_work():
    inside, leave = threading.Event(), threading.Event()

    def writer():
        with cores.at_work():
            inside.set()
            leave.wait(timeout=10)

    other = threading.Thread(target=writer)
    other.start()
    try:
        assert inside.wait(timeout=10)
        seen = set()
        assert cores.each(lambda x: seen.add(threading.current_thread().name) or x, range(20)) == list(range(20))
        assert seen == {threading.current_thread().name}
    finally:
        leave.set()
        other.join()


def test_the_error_raised_is_the_first_failing_pieces_in_order_not_in_time():
    """Piece 1 fails late, piece 2 fails at once on the other thread: piece 1's error is raised,
    as a plain loop would have raised it."""
    both = threading.Barrier(2, timeout=10)

    def piece(x):
        if x == 1:
            both.wait()
            time.sleep(0.05)
            raise ValueError("piece 1")
        if x == 2:
            both.wait()
            raise KeyError("piece 2")
        return x

    with pytest.raises(ValueError, match="piece 1"):
        cores.each(piece, [0, 1, 2, 3])


def test_items_made_with_spread_work_of_their_own_do_not_block_their_spread():
    """Making an item may spread work itself (its pull is not taken twice by the thread making
    it, nor waited for by a helper): the results are a plain loop's."""
    def items():
        for x in range(6):
            yield sum(cores.each(lambda y: (time.sleep(0.001), y)[1], range(x + 3)))

    assert cores.each(lambda total: total * 2, items()) == [2 * sum(range(x + 3)) for x in range(6)]


def test_without_a_thread_to_start_the_caller_does_all_the_work(monkeypatch):
    """No thread can be started (a process at its limit): every piece runs in the calling
    thread, nothing hangs and nothing is left counted as at work."""
    def refuse(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    seen = set()
    assert cores.each(lambda x: seen.add(threading.current_thread().name) or x, range(5)) == list(range(5))
    assert seen == {threading.current_thread().name}
