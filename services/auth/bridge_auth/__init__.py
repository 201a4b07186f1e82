"""Bridge auth service: tenants, installs, sessions, connections and the token vault (product.md §1, §9)."""
