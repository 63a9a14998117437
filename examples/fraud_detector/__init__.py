"""A fraud detector on synthetic card transactions, generated here (nothing is downloaded)."""
