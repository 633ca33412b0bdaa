"""The DSL grammar inside vLLM: the logits processor masks as the transformers constraint does,
follows requests as the engine moves them, and an engine's constrained samples all parse; runs
choose vLLM wherever it is installed."""

from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch

pytest.importorskip("vllm")

from vllm import SamplingParams  # noqa: E402
from vllm.v1.sample.logits_processor import BatchUpdate, MoveDirectionality  # noqa: E402

from codeit.dsl.program import ProgramError, parse  # noqa: E402
from codeit.policy.constrained import DSLConstraint  # noqa: E402
from codeit.policy.hf_sampler import HFSampler  # noqa: E402
from codeit.policy.model import create_policy  # noqa: E402
from codeit.policy.sampler import SamplingConfig  # noqa: E402
from codeit.policy.toy import TOY_CONFIG, TOY_PROMPTS  # noqa: E402
from codeit.policy.vllm_sampler import GRAMMAR_KEY, DSLLogitsProcessor, VLLMSampler  # noqa: E402

MAX_NEW = 30


def parses(text: str) -> bool:
    try:
        parse(text)
        return True
    except ProgramError:
        return False


@pytest.fixture(scope="module")
def untrained_dir(tmp_path_factory):
    """An untrained policy: its unconstrained samples are noise, so the grammar does all the work."""
    path = tmp_path_factory.mktemp("untrained")
    create_policy(replace(TOY_CONFIG, seed=1)).save(path)
    return path


@pytest.fixture(scope="module")
def programs(untrained_dir):
    """Constrained samples of the transformers backend: token sequences the grammar accepts."""
    out = HFSampler(str(untrained_dir)).sample(
        list(TOY_PROMPTS[:2]), SamplingConfig(n=4, max_new_tokens=MAX_NEW, constrained=True, seed=7))
    return [list(s.token_ids) for samples in out for s in samples]


def proc_format(path):
    from codeit.policy.model import PromptFormat

    return PromptFormat.from_pretrained(path)


def processor(path) -> DSLLogitsProcessor:
    config = SimpleNamespace(model_config=SimpleNamespace(tokenizer=str(path), model=str(path)))
    return DSLLogitsProcessor(config, torch.device("cpu"), False)


def grammar_params(max_tokens: int = MAX_NEW) -> SamplingParams:
    return SamplingParams(max_tokens=max_tokens, extra_args={GRAMMAR_KEY: True})


def banned_rows(proc: DSLLogitsProcessor, n_rows: int, width: int) -> torch.Tensor:
    proc.update_state(None)
    return torch.isinf(proc.apply(torch.zeros(n_rows, width)))


def test_the_processor_masks_as_the_transformers_constraint(untrained_dir, programs):
    proc = processor(untrained_dir)
    reference = DSLConstraint(proc_format(untrained_dir), MAX_NEW)
    width = reference.vocab_size
    outputs = [[] for _ in programs]
    proc.update_state(BatchUpdate(len(programs), removed=[], moved=[],
                                  added=[(k, grammar_params(), [1], out) for k, out in enumerate(outputs)]))
    longest = max(len(p) for p in programs)
    for t in range(longest):
        # The transformers constraint reads whole sequences (a one-token prompt, then the program,
        # eos-padded); the vLLM processor reads each request's own list as the engine grows it.
        seqs = torch.tensor([[1] + (p + [reference.eos] * longest)[:t] for p in programs])
        expected = torch.isinf(reference(seqs, torch.zeros(len(programs), width)))
        got = banned_rows(proc, len(programs), width)
        for k, program in enumerate(programs):
            if t < len(program):
                assert torch.equal(got[k], expected[k]), (k, t)
                assert not got[k, program[t]]  # the program's own next token is allowed
        for out, program in zip(outputs, programs):
            if t < len(program):
                out.append(program[t])


def test_requests_keep_their_state_when_moved_and_others_are_left_alone(untrained_dir, programs):
    a, b = programs[0], programs[1]
    proc = processor(untrained_dir)
    out_a, out_b, out_free = list(a[:3]), list(b[:5]), [5, 6, 7]
    proc.update_state(BatchUpdate(3, removed=[], moved=[], added=[
        (0, grammar_params(), [1], out_a), (1, SamplingParams(max_tokens=MAX_NEW), [1], out_free),
        (2, grammar_params(), [1], out_b)]))
    width = len(proc_format(untrained_dir).tokenizer.get_vocab()) + 8  # vLLM pads the vocabulary
    before = banned_rows(proc, 3, width)
    assert not before[1].any()  # a request without the grammar key is not touched
    assert before[0, width - 8:].all() and before[2, width - 8:].all()  # padding never allowed
    proc.update_state(BatchUpdate(3, removed=[], added=[], moved=[(0, 2, MoveDirectionality.SWAP)]))
    after = torch.isinf(proc.apply(torch.zeros(3, width)))
    assert torch.equal(after[2], before[0]) and torch.equal(after[0], before[2])
    out_b.append(b[5])  # the request now in row 0 grows: its row follows it
    assert not banned_rows(proc, 3, width)[0, b[6]]
    proc.update_state(BatchUpdate(2, removed=[2], added=[], moved=[]))
    assert not banned_rows(proc, 3, width)[2].any()


def test_too_small_a_budget_is_refused():
    with pytest.raises(ValueError, match="max_tokens"):
        DSLLogitsProcessor.validate_params(grammar_params(max_tokens=5))
    DSLLogitsProcessor.validate_params(SamplingParams(max_tokens=5))  # no grammar: any budget


@pytest.mark.slow
def test_an_untrained_policy_samples_only_programs_that_parse(untrained_dir):
    with VLLMSampler(str(untrained_dir)) as engine:
        for max_new_tokens in (8, 30, 64):
            config = SamplingConfig(n=40, max_new_tokens=max_new_tokens, constrained=True, seed=max_new_tokens)
            out = engine.sample(list(TOY_PROMPTS[:2]), config)
            assert all(s.finished for samples in out for s in samples)
            bad = [s.text for samples in out for s in samples if not parses(s.text)]
            assert not bad, bad[:3]
        free = engine.sample(list(TOY_PROMPTS[:2]), SamplingConfig(n=20, max_new_tokens=30))
        assert sum(parses(s.text) for samples in free for s in samples) < 40  # the constraint did the work
        with pytest.raises(ValueError, match="shortest program"):
            engine.sample(list(TOY_PROMPTS[:1]), SamplingConfig(n=1, max_new_tokens=5, constrained=True))


def test_runs_choose_vllm_for_decoder_only_policies(untrained_dir, tmp_path):
    from codeit.run.config import make_config
    from codeit.run.sampling import choose_backend

    config = make_config("tiny", {"sampling": {"backend": "auto"}})
    assert choose_backend(config, untrained_dir, "cpu") == "vllm"
    create_policy(replace(TOY_CONFIG, arch="t5")).save(tmp_path)
    assert choose_backend(config, tmp_path, "cpu") == "hf"  # vLLM serves no encoder-decoder
    assert choose_backend(make_config("tiny", {"sampling": {"backend": "hf"}}), untrained_dir, "cpu") == "hf"
