"""Tests of digest/, the library: windows, sources, analysis, rendering."""
