"""Cross-service mechanics shared by Bridge's services and gateway; no business rules live here."""
