"""The REST API under /api/v1 (product.md §8), plus the health endpoints."""
