"""Stage bookkeeping: a stage's garbage collections leave alone what the process held before it."""

from __future__ import annotations

import gc
import weakref

import pytest

from socialcx.stages.runs import long_lived_frozen


class _Node:
    """An object in a reference cycle: only the cyclic garbage collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_what_existed_before_a_stage_is_left_out_of_its_collections_and_collected_after():
    gc.collect()
    assert gc.get_freeze_count() == 0
    before = _Node()
    gone_before = weakref.ref(before)
    with long_lived_frozen():
        held = gc.get_freeze_count()
        assert held > 0  # what the process held is out of the generations collections walk
        del before
        gc.collect()
        assert gone_before() is not None  # a cycle from before the stage waits for the stage's end
        made = _Node()
        gone_made = weakref.ref(made)
        del made
        gc.collect()
        assert gone_made() is None  # what the stage made and let go of is collected as always (a dbt connection)
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone_before() is None  # given back to the collector once the stage has ended


def _collectable(obj: object) -> bool:
    """Whether ``obj`` is in a generation the collector walks (a frozen object is in none of them). Asked of the
    objects themselves, not of the frozen count, which another test's thread still running lowers whenever it lets
    go of a frozen object (the count once fell by 2 between two lines of the test below)."""
    return any(o is obj for o in gc.get_objects())


def test_nested_stages_freeze_once_and_an_error_still_unfreezes():
    gc.collect()
    held = _Node()  # the process's, before any stage
    with pytest.raises(RuntimeError, match="stage failed"):
        with long_lived_frozen():
            made = _Node()  # the outer stage's own
            with long_lived_frozen():  # a transform inside forget: no second freeze of what the outer one made
                assert _collectable(made) and not _collectable(held)
            assert _collectable(made) and not _collectable(held)  # the inner end leaves the outer stage frozen
            raise RuntimeError("stage failed")
    assert gc.get_freeze_count() == 0 and _collectable(held)
