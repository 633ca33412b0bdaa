"""The compact grid blobs of the experience store."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codeit.buffer.codec import _decode_python, _encode_python, decode_grids, encode_grids


@st.composite
def grids(draw):
    h = draw(st.integers(1, 30))
    w = draw(st.integers(1, 30))
    return tuple(tuple(draw(st.lists(st.integers(0, 9), min_size=w, max_size=w))) for _ in range(h))


@settings(max_examples=60, deadline=None)
@given(st.lists(grids(), min_size=0, max_size=4))
def test_round_trip(gs):
    blob = encode_grids(gs)
    assert decode_grids(blob) == tuple(gs)
    # The native codec and the Python reference agree byte for byte, lists or tuples alike.
    assert _encode_python(gs) == blob == encode_grids([list(map(list, g)) for g in gs])
    assert _decode_python(blob) == tuple(gs)
    assert len(blob) == 1 + 2 * len(gs) + sum(len(g) * len(g[0]) for g in gs)


def test_numpy_and_lists_encode_alike():
    g = [[1, 2], [3, 4], [5, 6]]
    assert encode_grids([np.array(g)]) == encode_grids([g]) == encode_grids([tuple(map(tuple, g))])


@pytest.mark.parametrize(
    "bad, message",
    [
        ([((1, 2), (3,))], "ragged"),
        ([((1, 256),)], "0..255"),
        ([((1, -1),)], "0..255"),
        ([np.zeros((2, 2, 2), np.uint8)], "3 dimensions"),
        ([np.zeros((300, 1), np.uint8)], "limited"),
    ],
)
def test_bad_grids_are_named(bad, message):
    with pytest.raises(ValueError, match=message):
        encode_grids(bad)
    with pytest.raises(ValueError, match=message):
        _encode_python(bad)


def test_ragged_grid_with_a_rectangular_cell_count_is_caught():
    ragged = ((1, 2, 3), (4, 5), (6, 7, 8, 9))  # 9 cells, like a 3x3 grid
    for encode in (encode_grids, _encode_python):
        with pytest.raises(ValueError, match="ragged"):
            encode([ragged])


def test_non_grids_are_type_errors():
    with pytest.raises((TypeError, ValueError)):
        encode_grids([(("a", "b"),)])
    with pytest.raises((TypeError, ValueError)):
        encode_grids([((1.5, 2),)])


@pytest.mark.parametrize("blob", [b"", b"\x01\x02", b"\x01\x01\x01", b"\x01\x01\x01\x05\x06"])
def test_corrupt_blobs_are_rejected(blob):
    with pytest.raises(ValueError):
        decode_grids(blob)
    with pytest.raises(ValueError):
        _decode_python(blob)
