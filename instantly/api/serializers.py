"""Serializers of provider connections and webhook events.

API keys are write-only: accepted on create and update, stored encrypted by the model, never
returned (only their last four characters are, like the operator console shows).
"""

from __future__ import annotations

from rest_framework import serializers

from instantly.models import ProviderConnection, WebhookEvent


class ProviderConnectionSerializer(serializers.ModelSerializer):
    api_key = serializers.CharField(
        write_only=True, required=False, trim_whitespace=True, min_length=8, max_length=500,
        style={"input_type": "password"},
        help_text="Instantly API v2 key: required on create, optional on update (rotates it). "
        "Stored encrypted, never returned.",
    )  # fmt: skip
    api_key_v1 = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500,
        style={"input_type": "password"}, help_text="Optional legacy v1 key; write-only.",
    )  # fmt: skip
    has_api_key_v1 = serializers.SerializerMethodField()
    # Declared, not derived: DRF would attach a unique validator built on the tenant manager.
    is_shared = serializers.BooleanField(
        read_only=True, help_text="The agency's shared workspace (created from INSTANTLY_API_KEY)."
    )

    class Meta:
        model = ProviderConnection
        fields = [
            "id", "name", "organization", "is_shared", "workspace_id", "workspace_name",
            "status", "api_key", "api_key_v1", "api_key_last4", "has_api_key_v1",
            "webhook_subscription_id", "last_synced_at", "last_error", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "is_shared", "api_key_last4", "webhook_subscription_id", "last_synced_at",
            "last_error", "created_at", "updated_at",
        ]  # fmt: skip

    def get_has_api_key_v1(self, connection) -> bool:
        return bool(connection.api_key_v1_encrypted)

    def validate(self, attrs):
        if self.instance is None and not attrs.get("api_key"):
            raise serializers.ValidationError({"api_key": "A new connection needs an API key."})
        return attrs

    def _apply_keys(self, connection, keys: dict) -> None:
        if keys.get("api_key"):
            connection.api_key = keys["api_key"]
        if "api_key_v1" in keys:
            connection.api_key_v1 = keys["api_key_v1"]

    def create(self, validated_data):
        keys = {k: validated_data.pop(k) for k in ("api_key", "api_key_v1") if k in validated_data}
        connection = ProviderConnection(**validated_data)
        self._apply_keys(connection, keys)
        connection.save()
        return connection

    def update(self, instance, validated_data):
        keys = {k: validated_data.pop(k) for k in ("api_key", "api_key_v1") if k in validated_data}
        for name, value in validated_data.items():
            setattr(instance, name, value)
        self._apply_keys(instance, keys)
        instance.save()
        return instance


class WebhookEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEvent
        fields = [
            "id", "organization", "connection", "event_type", "event_type_raw",
            "campaign_instantly_id", "status", "attempts", "occurred_at", "received_at",
            "claimed_at", "processed_at", "last_error",
        ]  # fmt: skip
        read_only_fields = fields


class WebhookEventDetailSerializer(WebhookEventSerializer):
    class Meta(WebhookEventSerializer.Meta):
        fields = [*WebhookEventSerializer.Meta.fields, "payload"]
        read_only_fields = fields


class ReprocessManySerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=1000,
        help_text="Events to reprocess; only failed or ignored ones are taken.",
    )  # fmt: skip


class ReprocessResultSerializer(serializers.Serializer):
    requeued = serializers.IntegerField(help_text="How many events went back to pending.")


class SyncWorkspaceSerializer(serializers.Serializer):
    connection = serializers.UUIDField(
        required=False, help_text="The connection to sync (default: the agency's shared one)."
    )
    full = serializers.BooleanField(
        default=False, help_text="Refetch every campaign's figures, changed or not."
    )


class SyncQueuedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["queued"])
    connection = serializers.UUIDField()
    full = serializers.BooleanField()
