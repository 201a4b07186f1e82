"""Bridge catalog service: products and stock between ikas and Fortnox (product.md §2-§4)."""
