"""Streamlit glue: translation, session state, cached loading. Pages live in ui/pages/."""
