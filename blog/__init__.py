"""The Wagtail app: page models, blocks, feeds, search and the content importer."""
