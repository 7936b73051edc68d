"""What a commit's diff changes, read without I/O from the patches the sources already carry.

A light parse per language: the functions, classes, options, routes, config keys, schema,
wire-format and dependency entries a diff adds, removes or changes, whether each belongs to a
public interface, and whether the whole diff only reformats or renames. Python is read with
`ast` wherever a whole blob (or a whole definition header) is visible in the patch; other
languages by regexes for their common shapes. `read_changes(commit)` is the entry point.
"""
