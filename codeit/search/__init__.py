"""Search: one step of the loop (sample texts in, candidates and experiences out), CodeIt's
mutation operators, the mutation baseline, and the initial buffer built from the seeds."""
