"""The Instantly boundary's API: the original system's /api/instantly/ endpoints (kept at their
exact paths) and the staff viewsets for provider connections and webhook events under /api/v1/.
"""
