"""Whole-page cache for anonymous readers, invalidated exactly when published content changes."""
