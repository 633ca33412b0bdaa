"""The DSL-aware tokenizer: one token per DSL name, punctuation mark, colour and grid word.

Built with the ``tokenizers`` library as a word-level model over a regex pre-tokenizer, saved as
``tokenizer.json`` beside the model and loadable as a transformers ``PreTrainedTokenizerFast``
(``load_tokenizer``). Program text round-trips exactly: ``decode(encode(p)) == p`` for canonical
program text, because the decoder puts back the spaces of ``x1 = f(a, b)``.

Vocabulary, in id order: special tokens (pad, bos, eos, sep, unk), the task-encoding markers
(``<in> <out> <test>``), program punctuation, ``I``, ``O``, ``x1..x99``, the 160 primitives and
28 constants in registry order, numbers 0..30 (colours, sizes, columns), runs ``*2..*30``, row
tokens ``r0..r29``, the compact grid words and the words of CodeIt's grid text.
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

from codeit.policy import encode as enc

PAD, BOS, EOS, SEP, UNK = "<pad>", "<bos>", "<eos>", "<sep>", "<unk>"
SPECIAL_TOKENS = (PAD, BOS, EOS, SEP, UNK)
MARKER_TOKENS = (enc.IN_TOKEN, enc.OUT_TOKEN, enc.TEST_TOKEN)
PUNCTUATION = ("=", "(", ")", ",", "\n")
MAX_VARIABLES = 99
"""Variables x1..x99 have tokens; a longer program cannot be written with this vocabulary."""

# One alternative per kind of token. An "x" right after a digit is the shape separator of CodeIt's
# "3x4" (else "x4" would read as a variable); "*12" is a run; anything else is one character.
SPLIT_PATTERN = r"(?<=[0-9])x|[A-Za-z_][A-Za-z_0-9]*|\*[0-9]+|[0-9]+|\n|[^\s]"

def dsl_names() -> tuple[list[str], list[str]]:
    """Primitive and constant names in registry order (from ``codeit.dsl.registry``)."""
    from codeit.dsl import registry

    return [p.name for p in registry.PRIMITIVES], [c.name for c in registry.CONSTANTS]


def grid_words() -> list[str]:
    """Tokens of the task encodings (compact and CodeIt's) other than markers and DSL names."""
    numbers = [str(n) for n in range(enc.MAX_SIDE + 1)]
    runs = [enc.run_token(n) for n in range(2, enc.MAX_SIDE + 1)]
    rows = [enc.row_token(n) for n in range(enc.MAX_SIDE)]
    words = [enc.SHAPE_SEP, enc.ROW_SEP, enc.SAME_ROW, enc.GROUP_SEP, enc.SPARSE_MARK, enc.DIFF_MARK,
             "background", "empty"]
    return numbers + runs + rows + words


def vocabulary() -> list[str]:
    """All tokens in id order (see the module docstring)."""
    primitives, constants = dsl_names()
    variables = ["I", "O"] + [f"x{k}" for k in range(1, MAX_VARIABLES + 1)]
    vocab = [*SPECIAL_TOKENS, *MARKER_TOKENS, *PUNCTUATION, *variables, *primitives, *constants]
    for word in grid_words():
        if word not in vocab:  # "x" and a few numbers may already be there
            vocab.append(word)
    if len(set(vocab)) != len(vocab):
        dupes = sorted({w for w in vocab if vocab.count(w) > 1})
        raise ValueError(f"tokenizer vocabulary: duplicate tokens {dupes}")
    return vocab


def build_tokenizer() -> Tokenizer:
    """The DSL tokenizer as a ``tokenizers.Tokenizer``."""
    vocab = vocabulary()
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="removed", invert=True)
    # Decoding restores canonical program spacing: "x1 = f(a, b)".
    tok.decoder = decoders.Sequence([decoders.Replace("=", " = "), decoders.Replace(",", ", "),
                                     decoders.Fuse()])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in MARKER_TOKENS])
    return tok


def fast_tokenizer(tokenizer: Tokenizer | None = None, model_max_length: int = 4096):
    """The DSL tokenizer as a transformers ``PreTrainedTokenizerFast`` (bos/eos/pad/sep/unk set)."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer or build_tokenizer(),
        bos_token=BOS, eos_token=EOS, pad_token=PAD, sep_token=SEP, unk_token=UNK,
        model_max_length=model_max_length, clean_up_tokenization_spaces=False,
    )


def save_tokenizer(path: str | Path, tokenizer=None) -> Path:
    """Write ``tokenizer.json`` and the transformers files into the folder ``path``; return it."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    fast = tokenizer if tokenizer is not None else fast_tokenizer()
    fast.save_pretrained(str(path))
    return path


def load_tokenizer(path: str | Path, local_files_only: bool = True):
    """A ``PreTrainedTokenizerFast`` (or the model's own tokenizer) from a folder or hub id."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path), local_files_only=local_files_only)


def is_dsl_tokenizer(tokenizer) -> bool:
    """Whether ``tokenizer`` (transformers) has this module's vocabulary, so programs decode exactly."""
    vocab = tokenizer.get_vocab()
    return all(vocab.get(w) == i for i, w in enumerate(vocabulary()))
