"""The policy: task encoding, the DSL tokenizer, models, and the samplers that turn tasks into programs.

Public API (what the loop calls):

- ``encode.EncodeConfig``, ``encode.encode_task``: a task as prompt text under a token budget.
- ``tokenizer.fast_tokenizer``, ``tokenizer.save_tokenizer``, ``tokenizer.load_tokenizer``.
- ``model.PolicyConfig``, ``model.create_policy``, ``model.load_policy``, ``model.Policy``.
- ``sampler.SamplingConfig``, ``sampler.Sampler``, ``sampler.Sample``, ``backends.open_sampler``,
  ``sampler.task_prompts``; backends ``hf_sampler.HFSampler`` and ``vllm_sampler.VLLMSampler``.
- ``constrained.DSLGrammar``: every sample parses (``DSLConstraint`` for transformers, ``GrammarRequest`` for vLLM).
- ``toy.toy_policy``: a tiny policy trained for seconds, for tests and benchmarks.

See README.md beside this file.
"""
