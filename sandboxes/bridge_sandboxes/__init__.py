"""Sandboxes of the two APIs Bridge talks to: faithful HTTP servers following ../shared's fact sheets.

Product code never knows it talks to a sandbox: only base URLs differ. Each sandbox also serves an
admin API under /__admin/ (seed, inspect state and the call log, inject faults, move the clock).
"""
