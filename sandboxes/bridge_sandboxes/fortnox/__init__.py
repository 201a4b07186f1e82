"""The Fortnox sandbox: OAuth, the /3/ REST API and the warehouse endpoints Bridge uses (fortnox-api.md)."""
