"""Page placeholder: being built."""

import streamlit as st

from ui.i18n import tr

st.title(tr("建设中", "Under construction"))
