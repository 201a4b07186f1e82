"""Bridge orders service: ikas orders into Fortnox exactly once, and what follows (product.md §2, §5, §5b)."""
