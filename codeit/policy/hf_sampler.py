"""The transformers backend: batched ``generate`` for every policy (decoder-only and T5)."""

from __future__ import annotations

from typing import Any, Sequence

from codeit.policy.model import Policy, load_policy
from codeit.policy.sampler import Sample, Sampler, SamplingConfig


def _cache_kwarg() -> str:
    """The name generate takes a ready key/value cache by: ``cache`` in recent transformers (where
    ``past_key_values`` is deprecated), ``past_key_values`` before."""
    import inspect

    from transformers import GenerationMixin

    source = inspect.getsource(GenerationMixin._prepare_cache_for_generation)
    return "cache" if 'model_kwargs.get("cache")' in source else "past_key_values"


_CACHE_KWARG = _cache_kwarg()


def _static_copies(model, prefilled, n: int, max_length: int):
    """A preallocated cache holding ``n`` copies of each prompt's prefilled keys and values.

    A dynamic cache grows by concatenation, copying itself at every decoded token: with long
    prompts and n copies of each, that copying was two thirds of a CPU sampler's time. A static
    cache is written in place.
    """
    from transformers import StaticCache

    cache = StaticCache(config=model.config, max_cache_len=max_length)
    for layer, filled in zip(cache.layers, prefilled.layers):
        layer.update(filled.keys.repeat_interleave(n, dim=0), filled.values.repeat_interleave(n, dim=0))
    return cache


class HFSampler(Sampler):
    """Samples with ``model.generate``: prompts in batches, left-padded for decoder-only models."""

    def __init__(self, policy: Policy | str, *, device: str = "cpu", dtype=None, share_prefill: bool = True,
                 static_cache: bool = True):
        """``policy``: a loaded ``Policy`` or the folder / hub id of one. ``device``: torch device.
        ``dtype``: the torch dtype the model is served in, reloaded weights included (None: as saved).
        ``share_prefill``: compute each decoder-only prompt's key/value cache once for its n samples
        (generate alone would prefill every copy). ``static_cache``: decode shared prefills into a
        preallocated cache (False: transformers' growing cache, the baseline of bench/sample.py)."""
        self.device = device
        self.share_prefill = share_prefill
        self.static_cache = static_cache
        self.dtype = dtype
        self.policy = policy if isinstance(policy, Policy) else load_policy(policy, dtype=dtype)
        # ``dtype`` (a torch dtype; None: as saved) holds for a policy handed over loaded, too.
        self.policy.model.to(device=device, dtype=dtype)
        self.policy.model.eval()

    @property
    def format(self):
        return self.policy.format

    @property
    def max_positions(self) -> int | None:
        return self.policy.max_positions

    def load_weights(self, path: str) -> None:
        """Load the weights saved at ``path`` into the model in place (same architecture)."""
        import torch
        from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

        auto = AutoModelForSeq2SeqLM if self.policy.is_encoder_decoder else AutoModelForCausalLM
        fresh = auto.from_pretrained(str(path), local_files_only=True, dtype=self.dtype)
        with torch.no_grad():
            missing, unexpected = self.policy.model.load_state_dict(fresh.state_dict(), strict=False)
        if unexpected or [k for k in missing if "lm_head" not in k]:
            raise ValueError(f"load_weights: {path} does not match the served model "
                             f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
        self.policy.path = str(path)

    def close(self) -> None:
        self.policy = None

    # -----------------------------------------------------------------------------------------

    def _batch(self, prompts: list[list[int]]):
        """Padded input ids and attention mask: left padding for decoder-only, right for T5."""
        import torch

        pad = self.format.pad_id
        width = max(len(p) for p in prompts)
        left = not self.policy.is_encoder_decoder
        ids = torch.full((len(prompts), width), pad, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, prompt in enumerate(prompts):
            span = slice(width - len(prompt), width) if left else slice(0, len(prompt))
            ids[row, span] = torch.tensor(prompt, dtype=torch.long)
            mask[row, span] = 1
        return ids.to(self.device), mask.to(self.device)

    def _generate(self, prompts: list[list[int]], config: SamplingConfig, n: int):
        """Generated ids (rows = prompts x n, prompt order) and each row's summed raw logprobs."""
        import torch
        from transformers import LogitsProcessorList

        model = self.policy.model
        ids, mask = self._batch(prompts)
        greedy = config.temperature == 0
        kwargs: dict[str, Any] = dict(
            input_ids=ids, attention_mask=mask, max_new_tokens=config.max_new_tokens,
            num_return_sequences=n, return_dict_in_generate=True, output_logits=True,
            pad_token_id=self.format.pad_id, eos_token_id=self.format.eos_id,
            do_sample=not greedy, num_beams=1,
        )
        if not greedy:
            # top_k=0 is spelled out: the model's generation config may default it to 50.
            kwargs.update(temperature=config.temperature, top_k=config.top_k, top_p=config.top_p)
        processors = LogitsProcessorList()
        if config.constrained:
            from codeit.policy.constrained import DSLConstraint
            processors.append(DSLConstraint(self.format, config.max_new_tokens,
                                            encoder_decoder=self.policy.is_encoder_decoder))
        with torch.no_grad():
            if self.share_prefill and n > 1 and not self.policy.is_encoder_decoder and ids.shape[1] > 1:
                # Prefill each prompt once, not n times: run all but its last token, repeat the
                # cache n times, and let generate take it from there.
                # Positions count real tokens only, as generate counts them under left padding.
                positions = (mask.cumsum(-1) - 1).clamp(min=0)
                prefill = model(input_ids=ids[:, :-1], attention_mask=mask[:, :-1],
                                position_ids=positions[:, :-1], use_cache=True)
                cache = getattr(prefill, "cache", None) or prefill.past_key_values
                if self.static_cache:
                    cache = _static_copies(model, cache, n, ids.shape[1] + config.max_new_tokens)
                else:
                    cache.batch_repeat_interleave(n)
                kwargs.update(input_ids=ids.repeat_interleave(n, dim=0),
                              attention_mask=mask.repeat_interleave(n, dim=0),
                              num_return_sequences=1, **{_CACHE_KWARG: cache})
            out = model.generate(**kwargs, logits_processor=processors)
        start = 1 if self.policy.is_encoder_decoder else ids.shape[1]
        generated = out.sequences[:, start:]
        steps = len(out.logits)
        generated = generated[:, :steps]
        logprobs = torch.zeros(generated.shape[0], dtype=torch.float64)
        eos = self.format.eos_id
        alive = torch.ones(generated.shape[0], dtype=torch.bool)
        for t in range(steps):
            token = generated[:, t]
            step = torch.log_softmax(out.logits[t].float(), dim=-1)
            picked = step.gather(1, token.unsqueeze(1)).squeeze(1).double()
            logprobs += torch.where(alive, picked, torch.zeros_like(picked))
            alive &= token != eos
        return generated.cpu(), logprobs

    def sample(self, prompts: Sequence[Any], config: SamplingConfig = SamplingConfig()) -> list[list[Sample]]:
        import torch

        if self.policy is None:
            raise RuntimeError("HFSampler.sample: the sampler is closed")
        prompt_ids = [self.prompt_ids(p) for p in prompts]
        for k, p in enumerate(prompt_ids):
            if not p:
                raise ValueError(f"HFSampler.sample: prompt {k} is empty")
        greedy = config.temperature == 0
        n_drawn = 1 if greedy else config.n
        results: list[list[Sample]] = []
        eos = self.format.eos_id
        # The draw is seeded apart from the global torch generator, which the caller may rely on.
        with torch.random.fork_rng(devices=[]):
            if config.seed is not None:
                torch.manual_seed(config.seed)
            for first in range(0, len(prompt_ids), config.prompts_per_batch):
                batch = prompt_ids[first:first + config.prompts_per_batch]
                generated, logprobs = self._generate(batch, config, n_drawn)
                for p in range(len(batch)):
                    samples = []
                    for r in range(p * n_drawn, (p + 1) * n_drawn):
                        row = generated[r].tolist()
                        finished = eos in row
                        if finished:
                            row = row[: row.index(eos) + 1]
                        samples.append(Sample(self.format.decode_program(row), float(logprobs[r]),
                                              tuple(row), finished))
                    results.append(samples * config.n if greedy else samples)
        return results

    def score(self, prompt: Any, completion: Sequence[int]) -> float:
        """The policy's summed log-probability of ``completion`` (generated ids) after ``prompt``.

        Teacher-forced; the same quantity as ``Sample.logprob``, so it checks either backend.
        """
        import torch

        prompt_ids = self.prompt_ids(prompt)
        completion = [int(t) for t in completion]
        model = self.policy.model
        with torch.no_grad():
            if self.policy.is_encoder_decoder:
                start = model.config.decoder_start_token_id
                decoder = torch.tensor([[start] + completion[:-1]], device=self.device)
                logits = model(input_ids=torch.tensor([prompt_ids], device=self.device),
                               decoder_input_ids=decoder).logits[0]
            else:
                seq = torch.tensor([prompt_ids + completion[:-1]], device=self.device)
                logits = model(input_ids=seq).logits[0, len(prompt_ids) - 1:]
            logp = torch.log_softmax(logits.float(), dim=-1)
            target = torch.tensor(completion, device=self.device)
            return float(logp.gather(1, target.unsqueeze(1)).sum())
