import numpy as np

from codeit.grids import exact_match, grid_hashes, group_hashes, pack, pixel_accuracy


def test_pack_round_trips_and_marks_missing():
    a = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.uint8)
    batch = pack([a, None, ((7,),)])
    assert batch.data.shape == (3, 30, 30)
    assert np.array_equal(batch.grid(0), a)
    assert batch.grid(1) is None
    assert batch.grid(2).tolist() == [[7]]


def test_exact_match_and_pixel_accuracy_against_indexed_targets():
    targets = pack([[[1, 2], [3, 4]], [[5]]])
    outputs = pack([[[1, 2], [3, 4]], [[1, 2], [3, 0]], [[5]], [[5, 5]], None])
    index = np.array([0, 0, 1, 1, 1])
    assert exact_match(outputs, targets, index).tolist() == [True, False, True, False, False]
    assert np.allclose(pixel_accuracy(outputs, targets, index), [1.0, 0.75, 1.0, 0.0, 0.0])


def test_hashes_equal_iff_grids_equal_including_shape():
    batch = pack([[[1, 0]], [[1, 0]], [[1], [0]], [[0, 1]], [[1, 0, 0]]])
    h = grid_hashes(batch)
    assert h[0] == h[1]
    assert len({int(x) for x in h[[0, 2, 3, 4]]}) == 4


def test_group_hashes_depend_on_members_and_order():
    h = np.array([11, 22, 33, 22, 11, 33], dtype=np.uint64)
    g = group_hashes(h, np.array([0, 2, 4, 6]))
    assert g[0] != g[1]  # (11, 22) vs (33, 22)
    same = group_hashes(np.array([11, 22, 11, 22], dtype=np.uint64), np.array([0, 2, 4]))
    assert same[0] == same[1]
    swapped = group_hashes(np.array([11, 22, 22, 11], dtype=np.uint64), np.array([0, 2, 4]))
    assert swapped[0] != swapped[1]
