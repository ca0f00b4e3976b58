"""Who may see what: the caller's token and access reviewed by the cluster (TokenReview, SubjectAccessReview),
remembered briefly, and the per-request policy the engine is given."""
