"""Reply categorisation: which of nine categories an inbound reply falls in, how sure, and
what it yields (the return date of an absence, the contact a misdirected reply points to).

Runs on the CPU with nothing downloaded: rules for machine-written replies, a scikit-learn
model trained from the shipped corpus (`manage.py train_categoriser`), an optional LLM.
This package belongs to the messaging layer and never imports `instantly`.
"""
