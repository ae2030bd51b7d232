"""The API's shared machinery: one error format, one pagination, one base viewset, permissions,
throttles, the /api/v1/ router and the OpenAPI schema. Endpoints live in each app's `api` module.
"""
