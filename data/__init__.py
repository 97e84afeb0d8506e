"""Data access: the spatial store, the Shiyan demo generator and file import."""
