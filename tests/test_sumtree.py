"""The native sum tree: sampling statistics, sampling without replacement, updates, growth,
validation (bad input leaves the tree unchanged) and checkpoints."""

import json
import math
import threading

import numpy as np
import pytest

from codeit.buffer.sumtree import CheckpointError, SumTree


def chi_square_critical(df: int, z: float = 3.719) -> float:
    """Upper quantile of chi-square(df) by Wilson-Hilferty; z = 3.719 is the 1e-4 tail, so a
    correct sampler fails a test about once in ten thousand seeds (and these seeds are fixed)."""
    a = 2.0 / (9.0 * df)
    return df * (1.0 - a + z * math.sqrt(a)) ** 3


def chi_square(counts: np.ndarray, probs: np.ndarray) -> tuple[float, int]:
    """Pearson's statistic over the cells with positive expected probability, and its df."""
    n = counts.sum()
    cells = probs > 0
    expected = n * probs[cells]
    stat = float(((counts[cells] - expected) ** 2 / expected).sum())
    return stat, int(cells.sum()) - 1


def random_priorities(rng, n, zero_fraction=0.2):
    p = rng.gamma(0.7, 1.0, n)
    p[rng.random(n) < zero_fraction] = 0.0
    return p


@pytest.mark.parametrize("stratified", [False, True])
@pytest.mark.parametrize("alpha", [1.0, 0.6])
def test_sampling_frequencies_match_priorities(stratified, alpha):
    rng = np.random.default_rng(1)
    p = random_priorities(rng, 300)
    tree = SumTree(capacity=16, alpha=alpha, seed=7)  # small capacity: exercises growth too
    tree.add(p)
    draws = np.concatenate([tree.sample(1000, stratified=stratified) for _ in range(300)])
    counts = np.bincount(draws, minlength=p.size)
    weights = np.where(p > 0, p**alpha, 0.0)
    probs = weights / weights.sum()
    assert counts[p == 0].sum() == 0, "a zero-priority item was drawn"
    stat, df = chi_square(counts, probs)
    assert stat < chi_square_critical(df), f"chi-square {stat:.1f} over {df} df"
    # The test has power: the same draws are far from what a uniform sampler would give.
    uniform = np.where(p > 0, 1.0, 0.0) / (p > 0).sum()
    assert chi_square(counts, uniform)[0] > 10 * chi_square_critical(df)


def test_sample_returns_probabilities_of_the_drawn_items():
    tree = SumTree(8, 1.0, 0)
    tree.add([1.0, 0.0, 3.0, 4.0])
    idx, probs = tree.sample(64, return_probs=True)
    np.testing.assert_allclose(probs, np.array([1.0, 0.0, 3.0, 4.0])[idx] / 8.0)


def test_sample_into_writes_caller_arrays_and_rejects_wrong_ones():
    tree = SumTree(8, 1.0, 0)
    tree.add([1.0, 2.0])
    out = np.full(32, -1, np.int64)
    probs = np.zeros(32)
    tree.sample_into(out, probs)
    assert set(out.tolist()) <= {0, 1} and np.all(probs > 0)
    with pytest.raises(TypeError):
        tree.sample_into(np.zeros(4, np.int32))
    with pytest.raises(ValueError):
        tree.sample_into(np.zeros((2, 2), np.int64))


def test_sampling_an_all_zero_tree_is_an_error():
    tree = SumTree(8, 1.0, 0)
    tree.add([0.0, 0.0])
    with pytest.raises(ValueError, match="no item with a positive priority"):
        tree.sample(4)


def test_without_replacement_draws_distinct_positive_items_first():
    rng = np.random.default_rng(2)
    p = random_priorities(rng, 500, zero_fraction=0.3)
    tree = SumTree(64, 1.0, 3)
    tree.add(p)
    before = tree.priorities()
    n_pos = int((p > 0).sum())
    for k in (1, 50, n_pos, n_pos + 40, p.size):
        idx, positive = tree.sample_without_replacement(k)
        assert idx.size == k and np.unique(idx).size == k, "an index was drawn twice"
        assert positive == min(k, n_pos)
        assert np.all(p[idx[:positive]] > 0), "a zero-priority item came while positive ones remained"
        assert np.all(p[idx[positive:]] == 0)
    idx, _ = tree.sample_without_replacement(n_pos)
    assert set(idx.tolist()) == set(np.flatnonzero(p > 0).tolist())
    # The temporary zeroing is undone: same priorities, same sums.
    np.testing.assert_array_equal(tree.priorities(), before)
    assert tree.total() == pytest.approx(p.sum(), rel=1e-12)
    assert tree.check_consistency() == 0.0
    with pytest.raises(ValueError, match="exceeds the number of items"):
        tree.sample_without_replacement(p.size + 1)


def test_without_replacement_first_draw_follows_priorities():
    p = np.array([1.0, 2.0, 0.0, 4.0, 8.0, 1.0])
    tree = SumTree(8, 1.0, 11)
    tree.add(p)
    firsts = np.array([tree.sample_without_replacement(3)[0][0] for _ in range(20000)])
    stat, df = chi_square(np.bincount(firsts, minlength=p.size), p / p.sum())
    assert stat < chi_square_critical(df)


def test_without_replacement_pair_probabilities_are_successive_sampling():
    # P(first=i, second=j) = p_i/S * p_j/(S - p_i): checks the zeroing between draws.
    p = np.array([1.0, 2.0, 3.0])
    tree = SumTree(4, 1.0, 5)
    tree.add(p)
    pairs = [tuple(tree.sample_without_replacement(2)[0]) for _ in range(30000)]
    cells = [(i, j) for i in range(3) for j in range(3) if i != j]
    counts = np.array([sum(1 for q in pairs if q == c) for c in cells])
    s = p.sum()
    probs = np.array([p[i] / s * p[j] / (s - p[i]) for i, j in cells])
    stat, df = chi_square(counts, probs)
    assert stat < chi_square_critical(df)


def test_updates_match_a_numpy_reference_and_keep_sums_exact():
    rng = np.random.default_rng(4)
    ref = random_priorities(rng, 3000)
    tree = SumTree(100, 1.0, 0)
    tree.add(ref)
    for _ in range(200):
        idx = rng.integers(0, ref.size, 64)
        val = random_priorities(rng, 64)
        tree.update(idx, val)
        ref[idx] = val  # numpy fancy assignment: the last repeat wins, as in the tree
    np.testing.assert_array_equal(tree.priorities(), ref)
    np.testing.assert_array_equal(tree.get([5, 17, 2999]), ref[[5, 17, 2999]])
    assert tree.total() == pytest.approx(ref.sum(), rel=1e-12)
    assert tree.check_consistency() == 0.0


def test_growth_keeps_priorities_for_every_alpha():
    for alpha in (1.0, 0.5, 2.0):
        tree = SumTree(1, alpha, 0)
        expected = []
        for step in range(1, 40):
            batch = np.arange(step, dtype=np.float64)
            first = tree.add(batch)
            assert first == len(expected)
            expected.extend(batch.tolist())
        assert tree.size == len(expected) and tree.capacity >= tree.size
        np.testing.assert_array_equal(tree.priorities(), expected)
        assert tree.total() == pytest.approx(sum(x**alpha for x in expected if x > 0))
        assert tree.check_consistency() == 0.0


def test_alpha_is_applied_once_and_raw_priorities_are_kept():
    p = np.array([0.0, 1.0, 4.0, 9.0])
    tree = SumTree(8, 1.0, 0)
    tree.add(p)
    tree.set_alpha(0.5)
    assert tree.total() == pytest.approx(6.0)
    np.testing.assert_array_equal(tree.priorities(), p)
    tree.set_alpha(0.0)
    assert tree.total() == pytest.approx(3.0)  # zero priority stays zero weight even at alpha 0
    tree.set_alpha(1.0)
    assert tree.total() == pytest.approx(14.0)
    np.testing.assert_array_equal(tree.priorities(), p)


@pytest.mark.parametrize(
    "bad, what",
    [(float("nan"), "NaN"), (-0.5, "negative"), (float("inf"), "infinite"), (-float("inf"), "infinite")],
)
def test_bad_priorities_are_rejected_and_change_nothing(bad, what):
    tree = SumTree(8, 1.0, 0)
    tree.add([1.0, 2.0, 3.0])
    before, total, rng_state = tree.priorities(), tree.total(), tree.rng_state()
    with pytest.raises(ValueError, match=rf"priorities\[2\] = .* is {what}"):
        tree.update([0, 1, 2], [5.0, 6.0, bad])
    with pytest.raises(ValueError, match=rf"priorities\[1\] = .* is {what}"):
        tree.add([7.0, bad, 8.0])
    np.testing.assert_array_equal(tree.priorities(), before)
    assert tree.size == 3 and tree.total() == total
    np.testing.assert_array_equal(tree.rng_state(), rng_state)


@pytest.mark.parametrize("bad_index", [3, -1, 10**12])
def test_out_of_range_indices_are_rejected_and_change_nothing(bad_index):
    tree = SumTree(8, 1.0, 0)
    tree.add([1.0, 2.0, 3.0])
    before = tree.priorities()
    with pytest.raises(ValueError, match=rf"indices\[1\] = {bad_index} is out of range \[0, 3\)"):
        tree.update([0, bad_index], [9.0, 9.0])
    with pytest.raises(ValueError, match="out of range"):
        tree.get([bad_index])
    np.testing.assert_array_equal(tree.priorities(), before)


def test_malformed_arguments_are_rejected():
    tree = SumTree(8, 1.0, 0)
    tree.add([1.0, 2.0])
    with pytest.raises(TypeError, match="indices must be integers"):
        tree.update(np.array([0.0, 1.0]), [1.0, 1.0])
    with pytest.raises(ValueError, match="2 indices but 1 priorities"):
        tree.update([0, 1], [1.0])
    with pytest.raises(ValueError, match="one-dimensional"):
        tree.update(np.zeros((1, 2), np.int64), np.ones((1, 2)))
    with pytest.raises(ValueError):
        SumTree(8, float("nan"), 0)
    with pytest.raises(ValueError):
        SumTree(0, 1.0, 0)
    np.testing.assert_array_equal(tree.priorities(), [1.0, 2.0])


def test_save_and_load_continue_with_the_same_draws(tmp_path):
    rng = np.random.default_rng(5)
    tree = SumTree(32, 0.7, 123)
    tree.add(random_priorities(rng, 1000))
    tree.sample(10)  # advance the generator: the checkpoint must carry its state
    tree.save(tmp_path / "tree.npz")
    restored = SumTree.load(tmp_path / "tree.npz")
    assert (restored.size, restored.alpha) == (tree.size, tree.alpha)
    np.testing.assert_array_equal(restored.priorities(), tree.priorities())
    np.testing.assert_array_equal(restored.sample(500), tree.sample(500))
    np.testing.assert_array_equal(restored.sample(64, stratified=True), tree.sample(64, stratified=True))
    np.testing.assert_array_equal(restored.sample_without_replacement(100)[0], tree.sample_without_replacement(100)[0])


def test_checkpoint_is_plain_arrays_and_newer_schema_is_refused(tmp_path):
    tree = SumTree(8, 1.0, 0)
    tree.add([1.0, 2.0])
    tree.save(tmp_path / "tree.npz")
    with np.load(tmp_path / "tree.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    metadata = json.loads(str(arrays["metadata"][()]))
    assert metadata["schema_version"] == 1 and metadata["size"] == 2
    metadata["schema_version"] = 99
    arrays["metadata"] = np.array(json.dumps(metadata))
    np.savez(tmp_path / "newer.npz", **arrays)
    with pytest.raises(CheckpointError, match="newer"):
        SumTree.load(tmp_path / "newer.npz")


def test_concurrent_calls_from_threads_keep_the_tree_consistent():
    rng = np.random.default_rng(6)
    tree = SumTree(1 << 12, 1.0, 0)
    tree.add(random_priorities(rng, 1 << 12, zero_fraction=0.0) + 0.01)
    errors = []

    def sampler():
        try:
            for _ in range(300):
                idx = tree.sample(256)
                assert idx.min() >= 0 and idx.max() < tree.size
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    def updater(seed):
        local = np.random.default_rng(seed)
        for _ in range(300):
            tree.update(local.integers(0, tree.size, 256), local.random(256) + 0.01)

    threads = [threading.Thread(target=sampler), threading.Thread(target=updater, args=(1,)),
               threading.Thread(target=updater, args=(2,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert tree.check_consistency() == 0.0
    assert tree.total() == pytest.approx(tree.priorities().sum(), rel=1e-12)
