"""API for organizations and memberships (agency staff), the caller's own profile (`me`) and
their personal API tokens.

Organizations and memberships decide the tenant, so they carry no row-level security: these
endpoints are staff-only, and sb_admin alone changes them (sb_operator reads).
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import Count
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from salesbrain.api.errors import Conflict
from salesbrain.api.permissions import (
    IsAgencyStaffAdminWrites,
    caller_is_staff,
    caller_membership,
)
from salesbrain.api.viewsets import INT_LOOKUP, UUID_LOOKUP, ScopedViewSet

from .api_tokens import ApiToken, active_condition
from .models import Membership, Organization
from .roles import is_agency_admin

# --- organizations --------------------------------------------------------------------------


class OrganizationSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "created_at", "member_count"]
        # A duplicate slug is a 409 conflict (from the unique index), not a 400.
        extra_kwargs = {"slug": {"validators": []}}


class OrganizationFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", label="Name contains.")

    class Meta:
        model = Organization
        fields = ["name", "slug"]


@extend_schema_view(
    create=extend_schema(responses={201: OrganizationSerializer, 409: OpenApiResponse()}),
    update=extend_schema(responses={200: OrganizationSerializer, 409: OpenApiResponse()}),
    partial_update=extend_schema(responses={200: OrganizationSerializer, 409: OpenApiResponse()}),
)
class OrganizationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    """Customers of the agency. Staff read; sb_admin creates and renames. Deleting an
    organization deletes all its data: that stays a deliberate act in the operator console."""

    model = Organization
    lookup_value_regex = UUID_LOOKUP
    serializer_class = OrganizationSerializer
    permission_classes = [IsAgencyStaffAdminWrites]
    filterset_class = OrganizationFilter
    ordering_fields = ["name", "slug", "created_at"]
    ordering = ["name"]

    def get_scoped_queryset(self, queryset):
        return queryset.annotate(member_count=Count("memberships"))

    def perform_create(self, serializer):
        serializer.save()
        serializer.instance.member_count = 0


# --- memberships ----------------------------------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "username", "email", "organization", "role", "created_at"]
        # A second membership of the same user in the same organization is a 409 conflict.
        validators = []


@extend_schema_view(
    create=extend_schema(responses={201: MembershipSerializer, 409: OpenApiResponse()}),
    update=extend_schema(responses={200: MembershipSerializer, 409: OpenApiResponse()}),
    partial_update=extend_schema(responses={200: MembershipSerializer, 409: OpenApiResponse()}),
)
class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    """Who belongs to which organization, with which role. Staff read; sb_admin writes."""

    model = Membership
    lookup_value_regex = INT_LOOKUP
    serializer_class = MembershipSerializer
    permission_classes = [IsAgencyStaffAdminWrites]
    filterset_fields = ["organization", "user", "role"]
    ordering_fields = ["created_at", "role"]
    ordering = ["organization__name", "user__username"]

    def get_scoped_queryset(self, queryset):
        return queryset.select_related("user", "organization")


# --- me -------------------------------------------------------------------------------------


class MeOrganizationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    role = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField(allow_blank=True)
    is_agency_staff = serializers.BooleanField()
    is_agency_admin = serializers.BooleanField()
    organization = MeOrganizationSerializer(
        allow_null=True, help_text="The organization this request acts for (null: none)."
    )
    memberships = MeOrganizationSerializer(many=True)


class MeView(APIView):
    """Who the caller is and which organization their requests act for."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve", tags=["me"])
    def get(self, request):
        def entry(membership):
            org = membership.organization
            return {"id": org.pk, "name": org.name, "slug": org.slug, "role": membership.role}

        current = caller_membership(request)
        user = request.user
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "email": user.email,
            "is_agency_staff": caller_is_staff(request),
            "is_agency_admin": is_agency_admin(user),
            "organization": entry(current) if current else None,
            "memberships": [entry(m) for m in getattr(request, "memberships", [])],
        }
        return Response(MeSerializer(data).data)


# --- personal API tokens --------------------------------------------------------------------

MAX_ACTIVE_TOKENS = 20


class ApiTokenSerializer(serializers.ModelSerializer):
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at",
            "is_active",
        ]  # fmt: skip
        read_only_fields = ["expires_at"]


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expires_in_days = serializers.IntegerField(
        min_value=1, max_value=3650, required=False, allow_null=True,
        help_text="Days until the token stops working; omit for a token that does not expire.",
    )  # fmt: skip


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once, now: store it safely.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]


class ApiTokenFilter(django_filters.FilterSet):
    active = django_filters.BooleanFilter(
        method="filter_active", label="Only tokens that still work (true) or only dead ones."
    )

    class Meta:
        model = ApiToken
        fields = ["active"]

    def filter_active(self, queryset, name, value):
        alive = active_condition()
        return queryset.filter(alive) if value else queryset.exclude(alive)


@extend_schema_view(
    create=extend_schema(
        request=ApiTokenCreateSerializer,
        responses={201: ApiTokenCreatedSerializer, 409: OpenApiResponse()},
    ),
    destroy=extend_schema(description="Revoke the token (it stays listed, revoked)."),
)
class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    ScopedViewSet,
):
    """The caller's own API tokens: create (the key is shown once), list, revoke.

    Every user has their own, staff included; nobody sees anyone else's (404)."""

    model = ApiToken
    lookup_value_regex = INT_LOOKUP
    serializer_class = ApiTokenSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = ApiTokenFilter
    ordering_fields = ["created_at", "last_used_at", "name"]
    ordering = ["-created_at"]

    def get_scoped_queryset(self, queryset):
        return queryset.filter(user=self.request.user)

    def create(self, request, *args, **kwargs):
        params = ApiTokenCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        if ApiToken.objects.active().filter(user=request.user).count() >= MAX_ACTIVE_TOKENS:
            raise Conflict(
                f"At most {MAX_ACTIVE_TOKENS} active tokens: revoke one first.",
                code="too_many_tokens",
            )
        days = params.validated_data.get("expires_in_days")
        expires_at = timezone.now() + dt.timedelta(days=days) if days else None
        token, key = ApiToken.issue(request.user, params.validated_data["name"], expires_at)
        token.key = key
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        instance.revoke()
