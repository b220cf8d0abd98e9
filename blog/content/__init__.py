"""The site's content as files: site/ Markdown imported into Wagtail pages, and exported back.

The format is documented in site/README.md. `layout` finds the files and where their pages go,
`frontmatter` and `markdown` parse a file into page fields and StreamField blocks, `importer`
writes them as published revisions, and `exporter` writes pages back out in the same format;
`report` is what the two commands print about it.
"""
