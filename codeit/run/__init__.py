"""The self-improvement loop: meta-iterations of sampling, execution, relabeling and learning."""
