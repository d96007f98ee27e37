"""Training the shipped line-classification model (needs the optional extra `sealtail[train]`).

`generators` (pure Python) writes labelled synthetic lines; `python -m agent.classify.training`
trains the tokenizer and the tiny Llama with torch and exports a Q8_0 GGUF file.
"""
