"""Pure spatial analysis: frames in, frames or Series out. No Streamlit imports here."""
