"""Stand-ins for the tools the pipeline calls (flyctl) that cannot be reached from CI."""
