"""The ikas sandbox: OAuth per store, dashboard credentials, the Admin GraphQL API v1 (real schema) and webhooks.

Start it with `python -m bridge_sandboxes.ikas --port P [--seed demo|none]`; see app.py for the
URL layout and the /__admin/ API.
"""
