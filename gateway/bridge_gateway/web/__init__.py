"""The dashboard (product.md §7): server-rendered HTML, every asset served by the gateway itself."""
