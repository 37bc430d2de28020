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


def test_nested_stages_freeze_once_and_an_error_still_unfreezes():
    gc.collect()
    with pytest.raises(RuntimeError, match="stage failed"):
        with long_lived_frozen():
            outer = gc.get_freeze_count()
            with long_lived_frozen():  # a transform inside forget: no second freeze of what the outer one made
                assert gc.get_freeze_count() == outer
            assert gc.get_freeze_count() == outer  # the inner end leaves the outer stage frozen
            raise RuntimeError("stage failed")
    assert gc.get_freeze_count() == 0
