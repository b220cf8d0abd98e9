"""Stand-ins for the tools the scripts call (flyctl, gh) that cannot be reached from CI."""
