"""The coordinators' desk (DESIGN.md, "Web pages"): what needs attention, the ledger, vetting,
feedback, reports and the circle's settings, one circle at a time."""
