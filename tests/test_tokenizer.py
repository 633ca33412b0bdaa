"""The DSL tokenizer: one token per DSL name and mark, exact program round trips, transformers loading."""

from pathlib import Path

import pytest

from codeit.dsl import registry
from codeit.policy import tokenizer as T

SEEDS = sorted((Path(__file__).resolve().parents[1] / "dsl" / "seeds").glob("*.dsl"))


@pytest.fixture(scope="module")
def tok():
    return T.build_tokenizer()


def test_vocabulary_has_hundreds_of_distinct_tokens():
    vocab = T.vocabulary()
    assert 300 <= len(vocab) <= 1000
    assert len(set(vocab)) == len(vocab)
    assert vocab[:5] == ["<pad>", "<bos>", "<eos>", "<sep>", "<unk>"]


def test_every_dsl_name_is_one_token(tok):
    names = ([p.name for p in registry.PRIMITIVES] + [c.name for c in registry.CONSTANTS]
             + ["I", "O"] + [f"x{k}" for k in range(1, 100)] + ["=", "(", ")", ",", "\n"]
             + [str(c) for c in range(10)] + ["<bos>", "<eos>", "<pad>", "<sep>", "<in>", "<out>", "<test>"])
    for name in names:
        encoding = tok.encode(name)
        assert len(encoding.ids) == 1 and encoding.tokens[0] == name, name


def test_seed_programs_round_trip_exactly(tok):
    assert SEEDS, "no seed programs found"
    for path in SEEDS:
        text = path.read_text()
        encoding = tok.encode(text)
        assert "<unk>" not in encoding.tokens, path.name
        assert tok.decode(encoding.ids) == text, path.name


def test_program_tokens_are_the_names_and_marks(tok):
    assert tok.encode("x1 = objects(I, T, F, T)\n").tokens == [
        "x1", "=", "objects", "(", "I", ",", "T", ",", "F", ",", "T", ")", "\n"]


def test_codeit_grid_text_splits_shape_from_variables(tok):
    assert tok.encode("3x12 background=0 1=0,1").tokens == [
        "3", "x", "12", "background", "=", "0", "1", "=", "0", ",", "1"]
    assert tok.encode("x3").tokens == ["x3"]


def test_unknown_text_maps_to_unk(tok):
    assert "<unk>" in tok.encode("x1 = notaprimitive(I)").tokens


def test_saved_tokenizer_loads_as_transformers_fast(tmp_path):
    from transformers import PreTrainedTokenizerFast

    T.save_tokenizer(tmp_path)
    assert (tmp_path / "tokenizer.json").is_file()
    loaded = T.load_tokenizer(tmp_path)
    assert isinstance(loaded, PreTrainedTokenizerFast)
    assert T.is_dsl_tokenizer(loaded)
    assert (loaded.bos_token, loaded.eos_token, loaded.pad_token, loaded.sep_token) == ("<bos>", "<eos>", "<pad>", "<sep>")
    program = "x1 = rot90(I)\nO = hconcat(x1, I)\n"
    ids = loaded(program, add_special_tokens=False).input_ids
    assert loaded.decode(ids) == program
    assert loaded.decode([loaded.bos_token_id] + ids + [loaded.eos_token_id], skip_special_tokens=True) == program


def test_names_come_from_the_registry():
    primitives, constants = T.dsl_names()
    assert primitives == [p.name for p in registry.PRIMITIVES]
    assert constants == [c.name for c in registry.CONSTANTS]
