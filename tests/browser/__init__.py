"""End-to-end safety tests in headless Chromium against the running app (see docs/safety.md)."""
