"""End-to-end browser tests: reader and editor journeys in Chromium, locally or against a URL."""
