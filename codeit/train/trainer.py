"""Training the policy on experiences: (task encoding, program) pairs, loss on the program tokens.

``train`` runs one meta-iteration's optimisation in the calling process; the learner process
(``codeit.train.learner``) calls it on what it draws from the replay buffer.

Every path takes the same batches (length-bucketed, shuffled), the same AdamW steps and the same
loss, the mean cross-entropy per program token; they differ in how a batch is computed:

- fused (the default for a Llama policy, ``fused_loss``): the batch's examples are packed into one
  row without padding and run through the model's own weights by the trainer's forward: attention
  per example in causal blocks, the last layer only at the positions whose logits the loss reads,
  logits only there; bf16 matmuls where the device has native bf16 (``precision="auto"``; weights,
  optimizer, residual stream and loss stay fp32). On a CPU the batch is split by tokens between
  worker threads (one per torch thread), each running single-threaded ops; their gradients are
  summed in a fixed order.
- packed (other decoder-only models, or ``fused=False``): the same packed row through the
  transformers forward, with per-example attention registered as an ``AttentionInterface``
  function (``packed_attention``) and logits only where the loss reads them; bf16 by autocast.
- padded (encoder-decoder models, or ``packing=False``): each batch padded to its longest row with
  a padding mask, logits everywhere. ``packing=False, precision="fp32"`` is the trainer as it was.

In fp32 the three agree to float rounding (``tests/test_learn.py``); ``bench/learn.py`` times them
on the default run's own warm-up examples.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from codeit.policy.encode import EncodeConfig, encode_task

PACKED_ATTENTION = "codeit_packed"
"""Name of the per-example causal attention registered with transformers' ``AttentionInterface``."""

PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class Example:
    """One training example: the prompt text of a (relabeled) task and the program that solves it."""

    prompt: str
    program: str


@dataclass
class PassProgress:
    """How far one call of :func:`train` got: what a checkpoint inside the pass keeps, and what a
    resumed call continues from (its model and optimizer restored by the caller)."""

    steps: int = 0
    """Optimizer steps taken (over every epoch of the call)."""
    losses: list[float] = field(default_factory=list)
    """The loss of each of those steps."""
    tokens: int = 0
    """Tokens they processed."""
    seconds: float = 0.0
    """Wall seconds they took (over every resumed call)."""
    torch_rng: object = None
    """``torch.get_rng_state()`` after the last step (None: not taken yet)."""


@dataclass(frozen=True)
class TrainStats:
    examples: int
    """Examples trained on (after dropping those too long)."""
    skipped: int
    """Examples dropped because prompt plus program exceeded the sequence budget."""
    steps: int
    """Optimizer steps taken."""
    mean_loss: float
    """Mean token loss over the pass (nan when nothing was trained)."""
    final_loss: float
    """Mean token loss of the last 10% of steps."""
    tokens: int
    """Tokens processed (prompt and program)."""
    seconds: float
    """Wall time of the pass."""


def encode_example(task, program: str, encode: EncodeConfig) -> Example:
    """The prompt of ``task`` (anything with ``.train``/``.test`` pairs) paired with ``program``."""
    return Example(encode_task(task, encode).text, program)


def _collate(rows: list[dict[str, list[int]]], pad_id: int, encoder_decoder: bool):
    import torch

    def pad(seqs: list[list[int]], value: int):
        width = max(len(s) for s in seqs)
        out = torch.full((len(seqs), width), value, dtype=torch.long)
        for k, s in enumerate(seqs):
            out[k, : len(s)] = torch.tensor(s, dtype=torch.long)
        return out

    input_ids = pad([r["input_ids"] for r in rows], pad_id)
    attention = pad([[1] * len(r["input_ids"]) for r in rows], 0)
    labels = pad([r["labels"] for r in rows], -100)
    return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}


def _length_bucketed_batches(rows: list[dict], batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar lengths: padding, not learning, is most of a batch's cost otherwise.

    The examples are shuffled, cut into pools of 16 batches, each pool sorted by length and cut
    into batches, and the batches shuffled again.
    """
    order = rng.permutation(len(rows))
    lengths = np.array([len(r["input_ids"]) for r in rows])
    pool = 16 * batch_size
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[k : k + batch_size] for k in range(0, len(chunk), batch_size))
    return [batches[k] for k in rng.permutation(len(batches))]


# -- packed sequences -------------------------------------------------------------------------------


@dataclass
class PackedRow:
    """Several examples concatenated into one row of ``input_ids`` (shape ``(1, T)``) without padding."""

    input_ids: object
    """``(1, T)`` token ids, the examples one after another."""
    position_ids: object
    """``(1, T)`` positions, restarting at 0 at each example (what the rotary embedding reads)."""
    segments: list[tuple[int, int]]
    """``(start, end)`` of each example in the row; attention never crosses them."""
    keep: object
    """Row positions whose next token is a program token (the only logits the loss needs)."""
    targets: object
    """The token each ``keep`` position is trained to predict."""
    tokens: int
    """Tokens in the row (prompt and program)."""
    keep_per_segment: list[list[int]]
    """``keep`` split by example, as positions inside the example."""


def pack_rows(rows: Sequence[dict[str, list[int]]]) -> PackedRow:
    """Concatenate decoder-only training rows (``PromptFormat.training_ids``) into one packed row.

    Position ``p`` of an example predicts its token ``p + 1``; positions are kept for the loss
    where that label is not -100, exactly the positions the padded loss counts.
    """
    import torch

    ids: list[int] = []
    positions: list[int] = []
    segments: list[tuple[int, int]] = []
    keep: list[int] = []
    targets: list[int] = []
    per_segment: list[list[int]] = []
    for row in rows:
        start, n = len(ids), len(row["input_ids"])
        ids.extend(row["input_ids"])
        positions.extend(range(n))
        segments.append((start, start + n))
        labels = row["labels"]
        mine = [p for p in range(n - 1) if labels[p + 1] != -100]
        per_segment.append(mine)
        keep.extend(start + p for p in mine)
        targets.extend(labels[p + 1] for p in mine)
    return PackedRow(
        input_ids=torch.tensor([ids], dtype=torch.long),
        position_ids=torch.tensor([positions], dtype=torch.long),
        segments=segments,
        keep=torch.tensor(keep, dtype=torch.long),
        targets=torch.tensor(targets, dtype=torch.long),
        tokens=len(ids),
        keep_per_segment=per_segment,
    )


def _packed_attention(module, query, key, value, attention_mask, dropout: float = 0.0, scaling=None,
                      codeit_segments=None, **kwargs):
    """Causal attention inside each example of a packed row (transformers' attention-function API).

    ``query``/``key``/``value``: ``(1, heads, T, head_dim)``; ``codeit_segments``: the examples'
    ``(start, end)``. Each example gets its own ``scaled_dot_product_attention(is_causal=True)``,
    which on a CPU runs the flash kernel and skips the masked half, instead of one ``T x T``
    block-diagonal mask. Without segments (sampling through a model left in this mode) the whole
    row is one sequence.
    """
    import torch
    import torch.nn.functional as F

    if key.shape[1] != query.shape[1]:
        groups = query.shape[1] // key.shape[1]
        key = key.repeat_interleave(groups, dim=1)
        value = value.repeat_interleave(groups, dim=1)
    if attention_mask is not None or codeit_segments is None:
        out = F.scaled_dot_product_attention(query, key, value, attn_mask=attention_mask, dropout_p=dropout,
                                             is_causal=attention_mask is None and query.shape[2] > 1, scale=scaling)
    else:
        # split, not one slice per example: the gradient of a split is one concatenation, that of
        # a slice a zero tensor of the whole row per example.
        lengths = [e - s for s, e in codeit_segments]
        parts = [
            F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True, scale=scaling)
            for q, k, v in zip(query.split(lengths, dim=2), key.split(lengths, dim=2), value.split(lengths, dim=2))
        ]
        out = parts[0] if len(parts) == 1 else torch.cat(parts, dim=2)
    return out.transpose(1, 2).contiguous(), None


def _register_packed_attention() -> None:
    from transformers import AttentionInterface

    AttentionInterface.register(PACKED_ATTENTION, _packed_attention)


def supports_packing(model) -> bool:
    """Decoder-only transformers models whose attention goes through ``AttentionInterface``."""
    config = getattr(model, "config", None)
    if config is None or getattr(config, "is_encoder_decoder", False):
        return False
    return bool(getattr(model, "_supports_attention_backend", False))


@contextlib.contextmanager
def packed_attention(model):
    """Switch ``model`` to the per-example attention for the duration, then back."""
    _register_packed_attention()
    before = model.config._attn_implementation
    model.set_attn_implementation(PACKED_ATTENTION)
    try:
        yield model
    finally:
        model.set_attn_implementation(before)


def packed_loss(model, packed: PackedRow, device: str = "cpu", *, reduction: str = "mean"):
    """Cross-entropy of a packed row's program tokens (``mean`` per token, or their ``sum``).

    The model must be in ``packed_attention`` mode. Logits are computed only at ``packed.keep``.
    """
    import torch
    import torch.nn.functional as F

    out = model(
        input_ids=packed.input_ids.to(device),
        position_ids=packed.position_ids.to(device),
        logits_to_keep=packed.keep.to(device),
        use_cache=False,
        codeit_segments=packed.segments,
    )
    logits = out.logits.reshape(-1, out.logits.shape[-1]).float()
    return F.cross_entropy(logits, packed.targets.to(device), reduction=reduction)


PADDED_TOKENS = 32_768
"""Most padded tokens (rows x longest prompt plus program) the padded path runs at once: a larger
batch (CodeIt's 512 examples of up to 1,024 + 512 tokens through CodeT5+) is split into
micro-batches whose gradients add up to the whole batch's, as CodeIt accumulated 64 batches of 8."""


def _padded_step(policy, forward, batch: list[dict], device: str, precision: str, max_tokens: int = PADDED_TOKENS):
    """Loss and gradients (left in ``.grad``) of one batch through the padded path, in micro-batches
    of at most ``max_tokens`` padded tokens; returns the batch's mean token loss and its input tokens.

    Each micro-batch's mean loss is weighted by its share of the batch's loss tokens (an
    encoder-decoder's labels; a decoder-only model's labels after the first, which it predicts),
    so the gradient is the whole batch's however it is split. A batch within the budget is one
    micro-batch, computed as before.
    """
    import torch

    skip = 0 if policy.is_encoder_decoder else 1

    def loss_tokens(row) -> int:
        return sum(1 for t in row["labels"][skip:] if t != -100)

    def padded_size(rows) -> int:
        return len(rows) * max(len(r["input_ids"]) + (len(r["labels"]) if skip == 0 else 0) for r in rows)

    parts: list[list[dict]] = [[]]
    for row in batch:
        if parts[-1] and padded_size(parts[-1] + [row]) > max_tokens:
            parts.append([])
        parts[-1].append(row)
    total = max(1, sum(loss_tokens(r) for r in batch))
    loss_sum = torch.zeros((), dtype=torch.float32)
    tokens = 0
    for part in parts:
        inputs = {k: v.to(device) for k, v in _collate(part, policy.format.pad_id, policy.is_encoder_decoder).items()}
        with _autocast(precision, device):
            if policy.is_encoder_decoder:
                out = forward(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], labels=inputs["labels"])
            else:
                out = forward(**inputs)
        share = sum(loss_tokens(r) for r in part) / total
        (out.loss * share).backward()
        loss_sum += out.loss.detach().float().cpu() * share
        tokens += int(inputs["attention_mask"].sum())
    return loss_sum, tokens


def padded_loss(policy, rows: Sequence[dict[str, list[int]]], device: str = "cpu"):
    """The padded path's loss on ``rows`` as one batch (mean per program token): the reference."""
    inputs = {k: v.to(device) for k, v in _collate(list(rows), policy.format.pad_id, policy.is_encoder_decoder).items()}
    return policy.model(**inputs).loss


def bf16_native(device: str = "cpu") -> bool:
    """Whether ``device`` computes bf16 natively (a GPU that says so; a CPU with AVX512-BF16 or AMX)."""
    import torch

    if device.startswith("cuda"):
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device != "cpu":
        return False
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:
        return False


def resolve_precision(precision: str, device: str = "cpu") -> str:
    """``auto`` -> ``bf16`` where the device has native bf16, else ``fp32``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        return "bf16" if bf16_native(device) else "fp32"
    return precision


def _autocast(precision: str, device: str):
    import torch

    if precision != "bf16":
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda" if device.startswith("cuda") else "cpu", dtype=torch.bfloat16)


# -- the fused Llama step -----------------------------------------------------------------------------
#
# For the default policy (``LlamaForCausalLM``) the trainer runs its own forward over the model's
# own weights, computing the same loss as ``model(**batch).loss`` with less work:
#
# - token-wise work (norms, projections, MLP) runs on the packed row, no padding;
# - attention runs on the examples laid out one per row of a batch, longest first, each padded to
#   a multiple of ``_LEN_BUCKET``: padding sits after an example's tokens, so under the causal mask
#   no real token sees it. Examples of one padded length form a group, computed together one block
#   of ``_BLOCK`` queries at a time, each block against the keys up to its last query only (a
#   causal mask hides the rest), so the score matrices stay cache-sized;
# - the last layer runs only where the loss reads it: its output at a position feeds nothing but
#   that position's logits, so queries, output projection and MLP of the last layer are computed for
#   the program-predicting positions only (keys and values still for every token);
# - in bf16 the weights are cast once per step (gradients flow back to the fp32 weights), the
#   residual stream stays fp32, and row counts are rounded up to a few sizes (``_ROW_BUCKET``,
#   ``_LEN_BUCKET``): a CPU's oneDNN builds a kernel per matrix shape, and building one costs more
#   than running it, so a step of new shapes every time would spend most of its time building.

_ROW_BUCKET = 256
"""The packed row is padded with inert tokens to a multiple of this many tokens."""
_LEN_BUCKET = 32
"""Attention lengths (keys per example, queries per example in the last layer) round up to this."""


def _round_up(n: int, step: int) -> int:
    return -(-n // step) * step


def supports_fused(model) -> bool:
    """Whether ``model`` is a Llama that the fused step reproduces exactly."""
    try:
        from transformers import LlamaForCausalLM
    except ImportError:
        return False
    if not isinstance(model, LlamaForCausalLM):
        return False
    c = model.config
    return (getattr(c, "hidden_act", "silu") == "silu" and not getattr(c, "attention_bias", False)
            and not getattr(c, "mlp_bias", False) and not getattr(c, "attention_dropout", 0.0)
            and getattr(c, "pretraining_tp", 1) == 1)


_BLOCK = 256
"""Queries per attention block: a block of queries attends only to the keys up to its last query."""
_GROUP_SCORES = 1 << 22
"""Most attention scores one block of a group holds (examples x heads x queries x keys): a group
of equal-length examples is cut so that its score matrix stays cache-sized however big the batch."""


def _attention_function():
    """The autograd function of the fused step's attention (built on first use: torch loads lazily)."""
    global _ATTENTION
    if _ATTENTION is not None:
        return _ATTENTION
    import torch

    class BlockAttention(torch.autograd.Function):
        """Attention over groups of examples, one block of queries at a time, with a hand-written backward.

        ``q`` (already scaled): ``(S, H, Lq, D)``; ``k``, ``v``: ``(S, H, L, D)``. ``blocks``:
        ``(first example, end example, first query, end query, end key, mask)``; mask either a bias
        ``(examples * H, queries, keys)`` of 0 and -inf, or a bool ``(queries, queries)`` that hides
        the keys from ``first query`` on above the diagonal (a causal block). Rows of ``q`` no block
        covers come out 0. A group holds examples of one rounded length, so the score matrices stay
        cache-sized; blocks skip the keys a causal mask would hide. Saves the probabilities only.
        """

        @staticmethod
        def forward(ctx, q, k, v, blocks):
            heads, dim = q.shape[1], q.shape[3]
            out = torch.zeros_like(q)
            probs = []
            for s0, s1, lo, hi, kend, mask in blocks:
                n = (s1 - s0) * heads
                qs = q[s0:s1, :, lo:hi].reshape(n, hi - lo, dim)
                ks = k[s0:s1, :, :kend].reshape(n, kend, dim).transpose(1, 2)
                if mask.dtype == torch.bool:
                    scores = torch.bmm(qs, ks)
                    scores[:, :, lo:hi].masked_fill_(mask, float("-inf"))
                else:
                    scores = torch.baddbmm(mask, qs, ks)
                p = torch.softmax(scores, -1)
                out[s0:s1, :, lo:hi] = torch.bmm(p, v[s0:s1, :, :kend].reshape(n, kend, dim)).view(s1 - s0, heads, hi - lo, dim)
                probs.append(p)
            ctx.save_for_backward(q, k, v, *probs)
            ctx.blocks = [b[:5] for b in blocks]
            return out

        @staticmethod
        def backward(ctx, grad_out):
            q, k, v, *probs = ctx.saved_tensors
            heads, dim = q.shape[1], q.shape[3]
            grad_q, grad_k, grad_v = torch.zeros_like(q), torch.zeros_like(k), torch.zeros_like(v)
            for (s0, s1, lo, hi, kend), p in zip(ctx.blocks, probs):
                m, n = s1 - s0, (s1 - s0) * heads
                g = grad_out[s0:s1, :, lo:hi].reshape(n, hi - lo, dim)
                ks = k[s0:s1, :, :kend].reshape(n, kend, dim)
                grad_v[s0:s1, :, :kend] += torch.bmm(p.transpose(1, 2), g).view(m, heads, kend, dim)
                vs = v[s0:s1, :, :kend].reshape(n, kend, dim)
                grad_scores = torch._softmax_backward_data(torch.bmm(g, vs.transpose(1, 2)), p, -1, p.dtype)
                grad_q[s0:s1, :, lo:hi] = torch.bmm(grad_scores, ks).view(m, heads, hi - lo, dim)
                qs = q[s0:s1, :, lo:hi].reshape(n, hi - lo, dim)
                grad_k[s0:s1, :, :kend] += torch.bmm(grad_scores.transpose(1, 2), qs).view(m, heads, kend, dim)
            return grad_q, grad_k, grad_v, None

    _ATTENTION = BlockAttention
    return _ATTENTION


_ATTENTION = None


@dataclass
class _FusedLayout:
    """Index maps of one packed row for the fused step (built once per step, shared by the layers).

    The attention batch holds one example per row, longest first, each padded to ``length``;
    ``groups`` are runs of rows whose lengths round up to the same size.
    """

    rows: int
    """Packed row length after padding to ``_ROW_BUCKET``."""
    examples: int
    length: int
    """Keys per example in the attention batch (longest example, rounded up)."""
    groups: list[tuple[int, int, int, int]]
    """``(first row, end row, keys, last-layer queries)``: rows of equal rounded length."""
    slots: object
    """For each real token of the packed row, its slot in the ``examples x length`` attention batch."""
    queries: int
    """Last-layer queries per example (most program-predicting positions, rounded up)."""
    query_rows: object
    """``examples x queries`` packed-row indices of the last layer's query positions (padding: row 0)."""
    query_pos: object
    """``(examples, queries)`` position in its example of each last-layer query (padding: 0)."""
    targets: object
    """``examples x queries`` target tokens, -100 at padding."""
    n_targets: int


def _fused_layout(packed: PackedRow, device: str, heads: int) -> _FusedLayout:
    import torch

    lengths = [e - s for s, e in packed.segments]
    examples = len(lengths)
    order = sorted(range(examples), key=lambda i: -lengths[i])
    keys = [_round_up(lengths[i], _LEN_BUCKET) for i in order]
    counts = [len(packed.keep_per_segment[i]) for i in order]
    length = keys[0]
    queries = _round_up(max(max(counts), 1), _LEN_BUCKET)
    groups = []
    for r, key in enumerate(keys):
        q = _round_up(max(counts[r], 1), _LEN_BUCKET)
        most_rows = max(1, _GROUP_SCORES // (heads * min(_BLOCK, key) * key))
        if groups and groups[-1][2] == key and r - groups[-1][0] < most_rows:
            first, _, _, most = groups[-1]
            groups[-1] = (first, r + 1, key, max(most, q))
        else:
            groups.append((r, r + 1, key, q))
    slots = torch.empty(packed.tokens, dtype=torch.long)
    query_rows = torch.zeros(examples, queries, dtype=torch.long)
    query_pos = torch.zeros(examples, queries, dtype=torch.long)
    targets = torch.full((examples, queries), -100, dtype=torch.long)
    starts = np.cumsum([0] + [len(k) for k in packed.keep_per_segment])
    for r, i in enumerate(order):
        start, end = packed.segments[i]
        slots[start:end] = torch.arange(end - start) + r * length
        kept = packed.keep_per_segment[i]
        if kept:
            n = len(kept)
            kept_t = torch.tensor(kept, dtype=torch.long)
            query_rows[r, :n] = kept_t + start
            query_pos[r, :n] = kept_t
            targets[r, :n] = packed.targets[starts[i] : starts[i] + n]
    return _FusedLayout(
        rows=_round_up(packed.tokens, _ROW_BUCKET), examples=examples, length=length, groups=groups,
        slots=slots.to(device), queries=queries, query_rows=query_rows.reshape(-1).to(device),
        query_pos=query_pos.to(device), targets=targets.reshape(-1).to(device), n_targets=int(starts[-1]),
    )


def _rotate(x, cos, sin_signed):
    """Rotary embedding of ``x`` (rows, heads, head_dim) at per-row ``cos`` (rows, 1, head_dim).

    Llama's ``x * cos + rotate_half(x) * sin`` with ``rotate_half(x) = (-x2, x1)``, written as
    ``x * cos + roll(x) * (-sin1, sin2)`` (``sin_signed``): three kernels instead of five.
    """
    import torch

    return torch.addcmul(x * cos, torch.roll(x, x.shape[-1] // 2, dims=-1), sin_signed)


def fused_loss(model, packed: PackedRow, device: str = "cpu", precision: str = "fp32", *, reduction: str = "mean"):
    """The program-token cross-entropy of a packed row through a Llama's weights (``supports_fused``).

    Equal to ``model(**padded batch).loss`` on the same examples (in fp32, to float rounding).
    """
    import torch
    import torch.nn.functional as F

    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    config, inner = model.config, model.model
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    width = config.hidden_size
    lay = _fused_layout(packed, device, heads)
    S, L, Q, real = lay.examples, lay.length, lay.queries, packed.tokens
    pad = lay.rows - real
    ids = F.pad(packed.input_ids[0], (0, pad)).to(device)
    positions = F.pad(packed.position_ids, (0, pad)).to(device)
    attention = _attention_function()
    # layers before the last: causal blocks (a block's keys end at its last query)
    above = torch.ones(_BLOCK, _BLOCK, dtype=torch.bool, device=device).triu_(1)
    causal_blocks = [
        (s0, s1, lo, min(lo + _BLOCK, key), min(lo + _BLOCK, key), above[: min(_BLOCK, key - lo), : min(_BLOCK, key - lo)])
        for s0, s1, key, _ in lay.groups for lo in range(0, key, _BLOCK)
    ]
    # the last layer: each query sees the keys up to its own position (a padding query: key 0 only)
    query_blocks = []
    for s0, s1, key, q in lay.groups:
        hidden = torch.arange(key, device=device) > lay.query_pos[s0:s1, :q, None]
        bias = torch.zeros(hidden.shape, dtype=dtype, device=device).masked_fill_(hidden, float("-inf"))
        query_blocks.append((s0, s1, 0, q, key, bias[:, None].expand(s1 - s0, heads, q, key).reshape(-1, q, key)))

    x = F.embedding(ids, inner.embed_tokens.weight)
    cos, sin = inner.rotary_emb(x, positions)
    half = head_dim // 2
    cos = cos[0].to(dtype)[:, None]
    sin_signed = torch.cat((-sin[0, :, :half], sin[0, :, half:]), dim=-1).to(dtype)[:, None]

    def norm(h, module):
        return F.rms_norm(h, (width,), module.weight, module.variance_epsilon).to(dtype)

    def to_batch(rows_x, n_heads):
        """(real rows, n_heads * head_dim) -> (S, heads, L, head_dim), zero padding."""
        out = rows_x.new_zeros(S * L, n_heads * head_dim).index_copy(0, lay.slots, rows_x)
        out = out.view(S, L, n_heads, head_dim).transpose(1, 2)
        if n_heads != heads:
            out = out.repeat_interleave(heads // n_heads, dim=1)
        return out.contiguous()

    def to_heads(t, n_heads, scale=1.0):
        """Rotary-embedded real rows of a projection, times ``scale``: (real, n_heads * head_dim)."""
        c, s = cos[:real], sin_signed[:real]
        if scale != 1.0:
            c, s = c * scale, s * scale
        return _rotate(t[:real].reshape(real, n_heads, head_dim), c, s).view(real, -1)

    n_layers = len(inner.layers)
    kv_width = kv_heads * head_dim
    for index, layer in enumerate(inner.layers):
        attn, mlp = layer.self_attn, layer.mlp
        h = norm(x, layer.input_layernorm)
        wq, wk, wv = attn.q_proj.weight.to(dtype), attn.k_proj.weight.to(dtype), attn.v_proj.weight.to(dtype)
        # projections over the whole padded row: its length is one of few (oneDNN reuses kernels)
        if index < n_layers - 1:
            q, k, v = F.linear(h, torch.cat((wq, wk, wv))).split((heads * head_dim, kv_width, kv_width), dim=1)
            kb, vb = to_batch(to_heads(k, kv_heads), kv_heads), to_batch(v[:real], kv_heads)
            ob = attention.apply(to_batch(to_heads(q, heads, attn.scaling), heads), kb, vb, causal_blocks)
            o = ob.transpose(1, 2).reshape(S * L, heads * head_dim).index_select(0, lay.slots)
            x = x + F.linear(F.pad(o, (0, 0, 0, pad)), attn.o_proj.weight.to(dtype))
        else:
            # the last layer: only the positions whose logits the loss reads
            k, v = F.linear(h, torch.cat((wk, wv))).split((kv_width, kv_width), dim=1)
            kb, vb = to_batch(to_heads(k, kv_heads), kv_heads), to_batch(v[:real], kv_heads)
            x = x.index_select(0, lay.query_rows)
            q = F.linear(h.index_select(0, lay.query_rows), wq).view(S * Q, heads, head_dim)
            q = _rotate(q, cos.index_select(0, lay.query_rows) * attn.scaling,
                        sin_signed.index_select(0, lay.query_rows) * attn.scaling)
            qb = q.view(S, Q, heads, head_dim).transpose(1, 2).contiguous()
            ob = attention.apply(qb, kb, vb, query_blocks)
            x = x + F.linear(ob.transpose(1, 2).reshape(S * Q, heads * head_dim), attn.o_proj.weight.to(dtype))
        h = norm(x, layer.post_attention_layernorm)
        gate, up = F.linear(h, torch.cat((mlp.gate_proj.weight.to(dtype), mlp.up_proj.weight.to(dtype)))).chunk(2, dim=1)
        x = x + F.linear(F.silu(gate) * up, mlp.down_proj.weight.to(dtype))
    logits = F.linear(norm(x, inner.norm), model.lm_head.weight.to(dtype)).float()
    total = F.cross_entropy(logits, lay.targets, ignore_index=-100, reduction="sum")
    return total if reduction == "sum" else total / max(lay.n_targets, 1)


def _split_by_tokens(rows: list[dict], parts: int) -> list[list[dict]]:
    """``rows`` dealt into at most ``parts`` non-empty lists of about equal tokens (longest first)."""
    load = [0] * parts
    out: list[list[dict]] = [[] for _ in range(parts)]
    for row in sorted(rows, key=lambda r: -len(r["input_ids"])):
        k = load.index(min(load))
        out[k].append(row)
        load[k] += len(row["input_ids"])
    return [part for part in out if part]


def _fused_step(model, batch: list[dict], device: str, precision: str, pool, workers: int):
    """Loss and gradients (left in the parameters' ``.grad``) of one batch through the fused step.

    With a thread pool the batch is split by tokens between its threads; each computes its part's
    summed loss over the batch's program-token count and its gradients, which are added in part
    order, so the result does not depend on which thread finishes first.
    """
    import torch

    parts = _split_by_tokens(batch, workers) if pool is not None else [batch]
    if len(parts) == 1:
        packed = pack_rows(batch)
        loss = fused_loss(model, packed, device, precision)
        loss.backward()
        return loss.detach(), packed.tokens
    params = [p for p in model.parameters() if p.requires_grad]
    total = sum(1 for row in batch for t in row["labels"][1:] if t != -100)

    def run(part):
        packed = pack_rows(part)
        loss = fused_loss(model, packed, device, precision, reduction="sum") / max(total, 1)
        return loss.detach(), torch.autograd.grad(loss, params, allow_unused=True), packed.tokens

    results = list(pool.map(run, parts))
    for i, p in enumerate(params):
        grads = [r[1][i] for r in results if r[1][i] is not None]
        if grads:
            g = grads[0]
            for other in grads[1:]:
                g = g + other
            p.grad = g
    return sum(r[0] for r in results), sum(r[2] for r in results)


# -- the pass ----------------------------------------------------------------------------------------


def train(
    policy,
    examples: Sequence[Example],
    *,
    lr: float,
    batch_size: int,
    epochs: int = 1,
    max_seq_len: int = 4096,
    weight_decay: float = 0.0,
    device: str = "cpu",
    seed: int = 0,
    progress: Callable[[int, int, float], None] | None = None,
    packing: bool = True,
    precision: str = "auto",
    fused: bool = True,
    compile: bool = False,
    workers: int = 0,
    optimizer=None,
    warmup_steps: int = 0,
    lr_scale: Callable[[int], float] | None = None,
    resume: PassProgress | None = None,
    after_step: Callable[[PassProgress], None] | None = None,
) -> TrainStats:
    """One or more passes of AdamW over ``examples`` in shuffled batches; the model is left in eval mode.

    ``packing``: concatenate each batch into one row without padding (decoder-only models whose
    attention goes through transformers' ``AttentionInterface``; others are padded regardless).
    ``fused``: with packing, run a Llama policy through the trainer's own forward (``fused_loss``).
    ``precision``: ``fp32``, ``bf16`` (bf16 matmuls; fp32 weights, optimizer and loss) or ``auto``
    (bf16 where the device has it natively). ``compile``: ``torch.compile`` the model for the pass
    (the transformers forward; it turns ``fused`` off).
    ``workers``: on a CPU the fused step splits each batch by tokens between this many threads, each
    running single-threaded torch ops, and sums their gradients in a fixed order (0: torch's thread
    count; 1: one thread whose ops use torch's threads).
    ``packing=False, precision="fp32"`` is the trainer as it was before packing. Batches, steps and
    the loss per program token are the same either way. ``optimizer``: an AdamW over the model's
    parameters to continue with (pretraining resumes one across segments; None: a new one).
    ``warmup_steps``: the learning rate rises linearly from 0 to ``lr`` over the first steps of this call.
    ``lr_scale``: the learning rate of this call's step ``i`` (from 0) is ``lr * lr_scale(i)`` instead
    (a caller that splits one schedule across calls, as pretraining does across segments).
    ``resume``: continue a pass stopped after ``resume.steps`` steps (the model and ``optimizer``
    restored as they were then): the same batches are drawn and the steps already taken skipped, so
    the pass ends as an uninterrupted one does. ``after_step``: called with the progress after every
    step (what a checkpoint inside the pass saves).
    """
    import torch

    started = time.perf_counter()
    rows, skipped = [], 0
    for ex in examples:
        ids = policy.format.training_ids(ex.prompt, ex.program)
        if len(ids["input_ids"]) > max_seq_len:
            skipped += 1
            continue
        rows.append(ids)
    model = policy.model
    if not rows:
        return TrainStats(0, skipped, 0, math.nan, math.nan, 0, time.perf_counter() - started)
    precision = resolve_precision(precision, device)
    packing = packing and supports_packing(model)
    fused = packing and fused and not compile and supports_fused(model)
    model.to(device)
    model.train()
    if optimizer is None:
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    done = resume or PassProgress()
    if done.torch_rng is not None:
        torch.set_rng_state(done.torch_rng)
    losses: list[float] = list(done.losses)
    tokens = done.tokens
    step = 0
    n_steps = epochs * math.ceil(len(rows) / batch_size)
    forward = torch.compile(model, dynamic=True) if compile else model
    mode = packed_attention(model) if packing and not fused else contextlib.nullcontext()
    threads = torch.get_num_threads()
    workers = (workers or threads) if fused and device == "cpu" else 1
    pool = None
    if workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        _attention_function()
        pool = ThreadPoolExecutor(workers, thread_name_prefix="codeit-train")
        torch.set_num_threads(1)
    with mode, contextlib.ExitStack() as cleanup:
        if pool is not None:
            cleanup.callback(torch.set_num_threads, threads)
            cleanup.callback(pool.shutdown)
        for _ in range(epochs):
            for batch_index in _length_bucketed_batches(rows, batch_size, rng):
                step += 1
                if step <= done.steps:
                    continue  # taken before the pass was stopped
                batch = [rows[k] for k in batch_index]
                if fused:
                    optimizer.zero_grad(set_to_none=True)
                    loss, batch_tokens = _fused_step(model, batch, device, precision, pool, workers)
                elif packing:
                    packed = pack_rows(batch)
                    with _autocast(precision, device):
                        loss = packed_loss(forward, packed, device)
                    batch_tokens = packed.tokens
                else:
                    optimizer.zero_grad(set_to_none=True)
                    loss, batch_tokens = _padded_step(policy, forward, batch, device, precision)
                if lr_scale is not None:
                    step_lr = lr * lr_scale(len(losses))
                else:
                    step_lr = lr * min(1.0, (len(losses) + 1) / warmup_steps) if warmup_steps else lr
                for group in optimizer.param_groups:
                    group["lr"] = step_lr
                if packing and not fused:
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                losses.append(float(loss.detach()))
                tokens += batch_tokens
                if progress is not None:
                    progress(len(losses), n_steps, losses[-1])
                if after_step is not None:
                    after_step(PassProgress(len(losses), losses, tokens,
                                            done.seconds + time.perf_counter() - started, torch.get_rng_state()))
    model.eval()
    tail = losses[-max(1, len(losses) // 10) :]
    return TrainStats(
        examples=len(rows),
        skipped=skipped,
        steps=len(losses),
        mean_loss=float(np.mean(losses)),
        final_loss=float(np.mean(tail)),
        tokens=tokens,
        seconds=done.seconds + time.perf_counter() - started,
    )
