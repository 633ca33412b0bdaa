"""Training the policy: the trainer (one pass of AdamW over examples) and the learner process
that owns the replay buffer and writes checkpoints."""
