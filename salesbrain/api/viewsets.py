"""The one base viewset every API endpoint over rows builds on, and the one place it scopes them.

Like PostHog's `TeamAndOrgViewSetMixin`: `ScopedViewSet.get_queryset()` is final. It starts from
the model's default manager, which for tenant models is the fail-closed `TenantManager` bound to
the scope the middleware opened for this request (the caller's organization, or the staff
bypass), and PostgreSQL row-level security applies beneath it. Subclasses only narrow that in
`get_scoped_queryset()`. A row of another organization is therefore simply absent: 404.
"""

from __future__ import annotations

from django.db import models
from rest_framework import mixins
from rest_framework.generics import get_object_or_404
from rest_framework.viewsets import GenericViewSet

from accounts.tenancy import TenantNotSet, current_tenant

from .permissions import MembersWriteViewersRead

# Router lookups: a path that cannot name a row does not even reach the view (JSON 404).
INT_LOOKUP = "[0-9]+"
UUID_LOOKUP = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


class ScopedViewSet(GenericViewSet):
    """Base of every API viewset over database rows.

    Set `model`; implement `get_scoped_queryset(queryset)` to narrow, join or annotate.
    Overriding `get_queryset` (or setting `queryset`) is refused at class creation.
    """

    model: type[models.Model]
    permission_classes = [MembersWriteViewersRead]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in ("get_queryset", "queryset"):
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} must not define {name}: implement get_scoped_queryset()"
                )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # Schema generation introspects the view outside any request or tenant; an action
            # listing another model (a campaign's messages) is described by its filterset's.
            filterset = getattr(self, "filterset_class", None)
            model = filterset._meta.model if filterset is not None else self.model
            return model._base_manager.none()
        if current_tenant() is None:
            # Fail closed: an API view reached without the middleware's scope sees nothing.
            raise TenantNotSet(f"{type(self).__name__} used outside a tenant scope")
        return self.get_scoped_queryset(self.model._default_manager.all())

    def get_scoped_queryset(self, queryset):
        """Narrow the scoped queryset (filter, select_related, annotate); never widen it."""
        return queryset

    def get_object(self):
        """The row named by the URL, among the rows this caller may see (404 otherwise).

        A malformed id is a 404 too. List filters are not applied: a query string must not
        change whether a detail route finds its row, and actions may use other models' filters.
        """
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        obj = get_object_or_404(
            self.get_queryset(), **{self.lookup_field: self.kwargs[lookup_url_kwarg]}
        )
        self.check_object_permissions(self.request, obj)
        return obj


class ReadOnlyScopedViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """List and retrieve, nothing else."""


def action_view(viewset, action: str, method: str = "get", **initkwargs):
    """A view serving one action of `viewset`, as the router would build it.

    Used for the original /api/instantly/ paths, which reuse the /api/v1/ viewsets (same
    scoping, serializers and filters) with their own permissions.
    """
    func = getattr(viewset, action)
    kwargs = dict(getattr(func, "kwargs", {}))
    detail = getattr(func, "detail", action in ("retrieve", "update", "partial_update", "destroy"))
    kwargs.update(initkwargs)
    return viewset.as_view({method: action}, detail=detail, **kwargs)
