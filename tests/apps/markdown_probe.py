"""A page that shows hostile values through ui.text.safe in every Markdown-rendering call.

Run by tests/test_text.py in a real browser: nothing of the values may become markup.
"""

import streamlit as st

from ui.text import safe

VALUES = [
    "[sign in](https://evil.example/login) ![x](https://evil.example/x.png)",
    "<a href='https://evil.example'>a</a><img src=https://evil.example/i.png>",
    ":red[red] :blue-background[bg] :material/home: :smile: :rainbow[r] :small[s]",
    "$x^2$ $$y$$ **bold** _em_ ~~strike~~ `code` # head",
    "www.evil.example https://evil.example mail@evil.example &lt;b&gt;",
    "- item\n1. one\n| a | b |\n|---|---|\n    indented > quote",
]

for n, value in enumerate(VALUES):
    text = safe(value)
    st.markdown(f"probe{n}: {text}", help=f"help {text}")
    st.error(f"error{n}: {text}")
    st.info(f"info{n}: {text}")
    st.caption(f"caption{n}: {text}")
    st.subheader(f"subheader{n}: {text}")
    st.metric(f"metric{n}: {text}", 1)
st.toast(safe(VALUES[0]))
