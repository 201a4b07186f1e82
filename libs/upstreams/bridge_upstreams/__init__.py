"""Bridge's clients for the two upstream APIs: Fortnox (REST v3) and ikas (Admin GraphQL v1).

Shared by the services that talk to them (auth for OAuth, catalog and orders for data); each
service wraps these clients in adapters behind its own ports. Transport concerns live here once:
the per-tenant rate budget, retries that are safe, the "outcome unknown" error for a lost write,
pagination, and translation of upstream errors into bridge_platform.errors.
"""
